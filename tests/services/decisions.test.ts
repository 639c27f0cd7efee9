/**
 * The decision functions, table-driven: one case per DAK row (HIV.B7.DT, HIV.B9.DT, HIV.D4.DT
 * W4SS and CRP tables) with the row id in the test name, the PEP and emergency contraception
 * boundaries, and the impossible inputs each function refuses.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Decision } from '../../src/services/decisions/result';
import { addMonths, formatDate, parseDate, parseDateTime } from '../../src/services/decisions/dates';
import { type Assay, HIV_B7_ROWS, hivTestingStrategy } from '../../src/services/decisions/hiv-testing-strategy';
import { HIV_B9_ROWS, type RetestInput, hivRetestDue } from '../../src/services/decisions/hiv-retest';
import { HIV_D4_ROWS, type TbScreenInput, tbScreen } from '../../src/services/decisions/tb-screen';
import { type PostExposureInput, postExposure } from '../../src/services/decisions/post-exposure';
import { STI_TABLE_FILE, defaultStiTable, loadStiTable, stiSyndromic } from '../../src/services/decisions/sti-syndromic';
import { hbvVaccinationSchedule } from '../../src/services/decisions/hbv-vaccination';

function value<T>(d: Decision<T>): T {
  if (!d.ok) throw new Error(`expected a decision, got ${JSON.stringify(d.issues)}`);
  return d.value;
}

/** The issue of a refused decision: its code and the parameter its expression names. */
function refusal<T>(d: Decision<T>): { code: string; param: string; text: string } {
  if (d.ok) throw new Error(`expected a refusal, got ${JSON.stringify(d.value)}`);
  const i = d.issues[0]!;
  return { code: i.code, param: /name = '([^']+)'/.exec(i.expression?.[0] ?? '')?.[1] ?? '', text: i.diagnostics ?? '' };
}

describe('dates', () => {
  test('a day the calendar lacks is not a date', () => {
    expect(parseDate('2023-02-29')).toBeUndefined();
    expect(parseDate('2024-02-29')).toBe(Date.UTC(2024, 1, 29));
    expect(parseDateTime('2024-05-01T10:00:00')).toBeUndefined();
    expect(parseDateTime('2024-02-30T10:00:00Z')).toBeUndefined();
  });

  test('adding months keeps to the last day of a shorter month', () => {
    expect(formatDate(addMonths(parseDate('2024-01-31')!, 1))).toBe('2024-02-29');
    expect(formatDate(addMonths(parseDate('2023-11-30')!, 3))).toBe('2024-02-29');
    expect(formatDate(addMonths(parseDate('2024-02-29')!, 12))).toBe('2025-02-28');
  });
});

describe('HIV.B7.DT testing strategy', () => {
  const a = (step: Assay['step'], reactive: boolean): Assay => ({ step, result: reactive ? 'reactive' : 'non-reactive' });
  const visitDate = '2024-02-20';

  test.each([
    ['HIV.B7.DT.01', 'A1− → HIV-negative', [a('A1', false)], { conclusion: 'HIV-negative' }],
    ['HIV.B7.DT.02', 'A1+ → A2', [a('A1', true)], { nextStep: 'A2' }],
    ['HIV.B7.DT.03', 'A1+ A2− → repeat A1', [a('A1', true), a('A2', false)], { nextStep: 'A1-repeat' }],
    ['HIV.B7.DT.04', 'A1+ A2+ → A3', [a('A1', true), a('A2', true)], { nextStep: 'A3' }],
    ['HIV.B7.DT.05', 'A1+ A2− repeat A1− → HIV-negative', [a('A1', true), a('A2', false), a('A1-repeat', false)], { conclusion: 'HIV-negative' }],
    ['HIV.B7.DT.06', 'A1+ A2− repeat A1+ → inconclusive, retest in 14 days', [a('A1', true), a('A2', false), a('A1-repeat', true)], { conclusion: 'HIV-inconclusive', retestDate: '2024-03-05' }],
    ['HIV.B7.DT.07', 'A1+ A2+ A3− → inconclusive, retest in 14 days', [a('A1', true), a('A2', true), a('A3', false)], { conclusion: 'HIV-inconclusive', retestDate: '2024-03-05' }],
    ['HIV.B7.DT.08', 'A1+ A2+ A3+ → HIV-positive', [a('A1', true), a('A2', true), a('A3', true)], { conclusion: 'HIV-positive' }],
  ])('%s: %s', (rule, _what, assays, expected) => {
    expect(value(hivTestingStrategy({ assays, visitDate }))).toEqual({ ...expected, rule });
  });

  test('the table has exactly the eight DAK rows', () => {
    expect(HIV_B7_ROWS.map((r) => r.id)).toEqual(['01', '02', '03', '04', '05', '06', '07', '08'].map((n) => `HIV.B7.DT.${n}`));
  });

  test('the order assays are listed in and the test type do not matter', () => {
    const assays: Assay[] = [{ ...a('A3', true), testType: 'eia' }, { ...a('A1', true), testType: 'rdt' }, a('A2', true)];
    expect(value(hivTestingStrategy({ assays, visitDate }))).toEqual({ conclusion: 'HIV-positive', rule: 'HIV.B7.DT.08' });
  });

  test.each([
    ['a step given twice', [a('A1', true), a('A1', true)], /more than once/],
    ['A2 without A1', [a('A2', true)], /starts with A1/],
    ['A2 after a non-reactive A1', [a('A1', false), a('A2', true)], /never performs A2 after A1 non-reactive.*HIV.B7.DT.01/],
    ['A3 after a non-reactive A2', [a('A1', true), a('A2', false), a('A3', true)], /never performs A3.*next assay is A1-repeat/],
    ['a repeat A1 after a reactive A2', [a('A1', true), a('A2', true), a('A1-repeat', true)], /never performs A1-repeat/],
    ['a repeat A1 without A2', [a('A1', true), a('A1-repeat', false)], /never performs A1-repeat after A1 reactive: the next assay is A2/],
    ['A3 and a repeat A1 together', [a('A1', true), a('A2', true), a('A3', true), a('A1-repeat', true)], /never performs A1-repeat/],
  ])('refuses %s (422)', (_what, assays, text) => {
    const r = refusal(hivTestingStrategy({ assays, visitDate }));
    expect(r).toMatchObject({ code: 'business-rule', param: 'assay' });
    expect(r.text).toMatch(text);
  });

  test('a visit date the calendar lacks is malformed (400)', () => {
    expect(refusal(hivTestingStrategy({ assays: [a('A1', false)], visitDate: '2023-02-29' }))).toMatchObject({ code: 'invalid', param: 'visitDate' });
  });
});

describe('HIV.B9.DT retesting', () => {
  const now = new Date('2025-06-01T12:00:00Z');
  const base: RetestInput = { lastNegativeTestDate: '2025-01-15', keyPopulation: false, onPrep: false };
  const ruleIds = (i: RetestInput): string[] => value(hivRetestDue(i, now)).recommendations.map((r) => r.rule);

  test.each<[string, Partial<RetestInput>, string | undefined]>([
    ['HIV.B9.DT.01', { partnerNotVirallySuppressed: true }, '2026-01-15'],
    ['HIV.B9.DT.02', { highBurdenSetting: true }, '2026-01-15'],
    ['HIV.B9.DT.03', { keyPopulation: true }, '2026-01-15'],
    ['HIV.B9.DT.04', { elevatedRisk: true }, '2026-01-15'],
    ['HIV.B9.DT.05', { tbDiagnosed: true }, undefined],
    ['HIV.B9.DT.06', { presumptiveTb: true }, undefined],
    ['HIV.B9.DT.07', { onPrep: true }, '2025-04-15'],
  ])('%s applies alone and dates the retest', (rule, extra, due) => {
    const out = value(hivRetestDue({ ...base, ...extra }, now));
    expect(out.recommendations.map((r) => r.rule)).toEqual([rule]);
    expect(out.nextTestDate).toBe(due);
    expect(out.rule).toBe(due ? rule : 'HIV.B9.DT');
  });

  test.each<[string, Partial<RetestInput>, string[], RegExp]>([
    ['HIV.B9.DT.08', { highBurdenSetting: true, pregnant: true }, ['HIV.B9.DT.02', 'HIV.B9.DT.08', 'HIV.B9.DT.09'], /syphilis and hepatitis B tests as early as possible/],
    ['HIV.B9.DT.09', { highBurdenSetting: true, pregnant: true }, ['HIV.B9.DT.02', 'HIV.B9.DT.08', 'HIV.B9.DT.09'], /third-trimester visit/],
    ['HIV.B9.DT.10', { highBurdenSetting: false, keyPopulation: true, pregnant: true }, ['HIV.B9.DT.03', 'HIV.B9.DT.10'], /first ANC contact.*post-partum/],
    ['HIV.B9.DT.11', { highBurdenSetting: false, partnerNotVirallySuppressed: true, pregnant: true }, ['HIV.B9.DT.01', 'HIV.B9.DT.11'], /first ANC contact.*post-partum/],
    ['HIV.B9.DT.12', { highBurdenSetting: false, elevatedRisk: true, pregnant: true }, ['HIV.B9.DT.04', 'HIV.B9.DT.12'], /first ANC contact.*post-partum/],
  ])('%s applies in pregnancy, with every other matching row (rule order)', (rule, extra, all, action) => {
    const out = value(hivRetestDue({ ...base, ...extra }, now));
    expect(out.recommendations.map((r) => r.rule)).toEqual(all);
    const row = out.recommendations.find((r) => r.rule === rule)!;
    expect(row.action).toMatch(action);
    expect(row.dueDate).toBeUndefined();
  });

  test('the table has exactly the twelve DAK rows', () => {
    expect(HIV_B9_ROWS.map((r) => r.id)).toEqual(Array.from({ length: 12 }, (_, i) => `HIV.B9.DT.${String(i + 1).padStart(2, '0')}`));
  });

  test('a key-population member on PrEP retests at 3 months (HIV.B9.DT.07 before .03)', () => {
    const out = value(hivRetestDue({ ...base, keyPopulation: true, onPrep: true }, now));
    expect(out).toMatchObject({ nextTestDate: '2025-04-15', rule: 'HIV.B9.DT.07' });
    expect(out.recommendations.map((r) => r.dueDate)).toEqual(['2026-01-15', '2025-04-15']);
  });

  test('the pregnancy rows of a low-burden setting need the setting stated', () => {
    expect(ruleIds({ ...base, keyPopulation: true, pregnant: true })).toEqual(['HIV.B9.DT.03']);
  });

  test('no row applies without a risk, PrEP or setting', () => {
    expect(value(hivRetestDue(base, now))).toEqual({ rule: 'HIV.B9.DT', recommendations: [] });
  });

  test('a quarterly retest from the end of November falls on the end of February', () => {
    expect(value(hivRetestDue({ ...base, lastNegativeTestDate: '2024-11-30', onPrep: true }, now)).nextTestDate).toBe('2025-02-28');
  });

  test('a negative test in the future is impossible (422); tomorrow is allowed for zones ahead of UTC', () => {
    expect(refusal(hivRetestDue({ ...base, lastNegativeTestDate: '2025-06-03' }, now))).toMatchObject({ code: 'business-rule', param: 'lastNegativeTestDate' });
    expect(hivRetestDue({ ...base, lastNegativeTestDate: '2025-06-02' }, now).ok).toBe(true);
  });
});

describe('HIV.D4.DT TB screening (W4SS and CRP tables)', () => {
  const screen = (i: Partial<TbScreenInput>) => tbScreen({ age: 30, symptoms: [], algorithm: 'w4ss', ...i });

  test.each<[string, string, Partial<TbScreenInput>, string | undefined, RegExp]>([
    ['HIV.D4.DT.01', 'W4SS, a symptom → screen positive, refer', { symptoms: ['cough'] }, 'screen-positive', /Refer for diagnostic evaluation/],
    ['HIV.D4.DT.02', 'W4SS, no symptom → screen negative, assess TPT', {}, 'screen-negative', /Assess for TB preventive treatment/],
    ['HIV.D4.DT.03', 'W4SS+CRP, no symptom → screen negative, CRP not needed', { algorithm: 'w4ss-crp', crp: 40 }, 'screen-negative', /Assess for TB preventive treatment/],
    ['HIV.D4.DT.04', 'W4SS+CRP, a symptom, no CRP yet → do the CRP test', { algorithm: 'w4ss-crp', symptoms: ['fever'] }, undefined, /Perform a C-reactive protein test/],
    ['HIV.D4.DT.05', 'W4SS+CRP, a symptom, CRP 5 mg/L (≤ 5) → screen negative (handbook A.3.5; the DAK extract says positive)', { algorithm: 'w4ss-crp', symptoms: ['night-sweats'], crp: 5 }, 'screen-negative', /alternative diagnosis/],
    ['HIV.D4.DT.06', 'W4SS+CRP, a symptom, CRP 5.1 mg/L (> 5) → screen positive (handbook A.3.5; the DAK extract says negative)', { algorithm: 'w4ss-crp', symptoms: ['weight-loss', 'cough'], crp: 5.1 }, 'screen-positive', /Refer for diagnostic evaluation/],
  ])('%s: %s', (rule, _what, input, result, action) => {
    const out = value(screen(input));
    expect(out.rule).toBe(rule);
    expect(out.result).toBe(result);
    expect(out.action).toMatch(action);
  });

  test('the W4SS and CRP tables have the six DAK rows', () => {
    expect(HIV_D4_ROWS.map((r) => r.id)).toEqual(['01', '02', '03', '04', '05', '06'].map((n) => `HIV.D4.DT.${n}`));
  });

  test('each of the four symptoms alone makes W4SS positive; W4SS alone ignores CRP', () => {
    for (const s of ['cough', 'fever', 'weight-loss', 'night-sweats'] as const) expect(value(screen({ symptoms: [s] })).result).toBe('screen-positive');
    expect(value(screen({ symptoms: ['cough'], crp: 1 }))).toMatchObject({ result: 'screen-positive', rule: 'HIV.D4.DT.01' });
  });

  test('W4SS starts at age 10', () => {
    expect(value(screen({ age: 10 })).rule).toBe('HIV.D4.DT.02');
    expect(refusal(screen({ age: 9 }))).toMatchObject({ code: 'business-rule', param: 'age' });
    expect(refusal(screen({ age: 9 })).text).toMatch(/HIV.D4.DT.07–08/);
  });

  test.each([
    ['a negative age', { age: -1 }, 'age'],
    ['an age beyond a lifetime', { age: 131 }, 'age'],
    ['a negative CRP', { algorithm: 'w4ss-crp' as const, symptoms: ['cough' as const], crp: -2 }, 'crp'],
  ])('refuses %s (422)', (_what, input, param) => {
    expect(refusal(screen(input))).toMatchObject({ code: 'business-rule', param });
  });
});

describe('post-exposure care (SWIT 5.7)', () => {
  const exposure = '2024-05-01T22:00:00Z';
  const later = (hours: number, minutes = 0) => new Date(Date.parse(exposure) + (hours * 60 + minutes) * 60000).toISOString();
  const base: PostExposureInput = { exposureDateTime: exposure, assessmentDateTime: later(1), exposureType: 'sexual-assault', hivStatus: 'unknown', pregnant: false, sex: 'female' };
  const assess = (i: Partial<PostExposureInput>) => value(postExposure({ ...base, ...i }));

  test.each([
    ['71 h 59 min: PEP still possible', 71, 59, true, 'SWIT5.7.PEP.01'],
    ['exactly 72 h: PEP still possible', 72, 0, true, 'SWIT5.7.PEP.01'],
    ['72 h 01 min: too late for PEP', 72, 1, false, 'SWIT5.7.PEP.02'],
  ])('%s', (_what, h, m, eligible, rule) => {
    const out = assess({ assessmentDateTime: later(h, m) });
    expect(out.pepEligible).toBe(eligible);
    expect(out.pepDeadline).toBe('2024-05-04T22:00:00Z');
    expect(out.rules).toContain(rule);
  });

  test.each([
    ['119 h 59 min: emergency contraception possible', 119, 59, true, 'SWIT5.7.EC.01'],
    ['exactly 120 h: emergency contraception possible', 120, 0, true, 'SWIT5.7.EC.01'],
    ['120 h 01 min: too late for emergency contraception', 120, 1, false, 'SWIT5.7.EC.02'],
  ])('%s', (_what, h, m, eligible, rule) => {
    const out = assess({ assessmentDateTime: later(h, m) });
    expect(out.ecEligible).toBe(eligible);
    expect(out.ecDeadline).toBe('2024-05-06T22:00:00Z');
    expect(out.rules).toContain(rule);
  });

  test('post-rape care: STI prophylaxis, hepatitis B vaccination, HIV test and mental health from 3 months', () => {
    expect(assess({})).toEqual({
      pepEligible: true,
      pepDeadline: '2024-05-04T22:00:00Z',
      ecEligible: true,
      ecDeadline: '2024-05-06T22:00:00Z',
      stiProphylaxis: true,
      hbvVaccination: true,
      followUp: [
        { service: 'HIV test', dueDate: '2024-08-01' },
        { service: 'Mental-health follow-up', dueDate: '2024-08-01' },
      ],
      rules: ['SWIT5.7.PEP.01', 'SWIT5.7.EC.01', 'SWIT5.7.SA.01', 'SWIT5.7.FU.01'],
    });
  });

  test('never PEP for someone already living with HIV, whatever the time', () => {
    const out = assess({ hivStatus: 'HIV-positive' });
    expect(out).toMatchObject({ pepEligible: false, stiProphylaxis: true });
    expect(out.pepDeadline).toBeUndefined();
    expect(out.rules).toContain('SWIT5.7.PEP.03');
    expect(out.followUp.map((f) => f.service)).toEqual(['Mental-health follow-up']);
  });

  test('a condom failure: PEP and EC windows, no assault package', () => {
    const out = assess({ exposureType: 'condom-failure', hivStatus: 'HIV-negative' });
    expect(out).toMatchObject({ pepEligible: true, ecEligible: true, stiProphylaxis: false, hbvVaccination: false });
    expect(out.followUp).toEqual([{ service: 'HIV test', dueDate: '2024-08-01' }]);
    expect(out.rules).toContain('SWIT5.7.SA.02');
  });

  // SWIT 5.7: emergency contraception within 120 hours is part of post-rape care; `sex` is the
  // registered (administrative) gender, which does not tell whether someone can become pregnant.
  test.each<[string, Partial<PostExposureInput>]>([
    ['sex other', { sex: 'other' }],
    ['sex unknown', { sex: 'unknown' }],
    ['sex male (e.g. a transgender man): not ruled out on the registered gender alone', { sex: 'male' }],
    ['a condom failure, sex other', { sex: 'other', exposureType: 'condom-failure' }],
  ])('emergency contraception offered after a sexual exposure for %s', (_what, i) => {
    const out = assess(i);
    expect(out).toMatchObject({ ecEligible: true, ecDeadline: '2024-05-06T22:00:00Z' });
    expect(out.rules).toContain('SWIT5.7.EC.01');
  });

  test.each<[string, Partial<PostExposureInput>]>([
    ['someone already pregnant', { pregnant: true }],
    ['someone whose record rules pregnancy out', { sex: 'male', pregnancyPossible: false }],
    ['a pregnant man (a transgender man may be pregnant): assessed, not refused', { sex: 'male', pregnant: true }],
    ['a needle-sharing exposure', { exposureType: 'needle-sharing' }],
  ])('no emergency contraception for %s', (_what, i) => {
    const out = assess(i);
    expect(out.ecEligible).toBe(false);
    expect(out.ecDeadline).toBeUndefined();
    expect(out.rules).toContain('SWIT5.7.EC.03');
  });

  test('deadlines are instants; follow-up counts from the client\'s own calendar day', () => {
    const out = assess({ exposureDateTime: '2024-05-31T01:30:00+03:00', assessmentDateTime: '2024-05-31T09:00:00+03:00' });
    expect(out.pepDeadline).toBe('2024-06-02T22:30:00Z');
    expect(out.followUp[0]!.dueDate).toBe('2024-08-31');
  });

  test.each<[string, Partial<PostExposureInput>, string, string]>([
    ['an assessment before the exposure', { assessmentDateTime: '2024-05-01T21:59:00Z' }, 'business-rule', 'assessmentDateTime'],
    ['pregnant while pregnancy is ruled out', { pregnant: true, pregnancyPossible: false }, 'business-rule', 'pregnant'],
    ['an exposure time without a zone', { exposureDateTime: '2024-05-01T22:00:00' }, 'invalid', 'exposureDateTime'],
  ])('refuses %s', (_what, i, code, param) => {
    expect(refusal(postExposure({ ...base, ...i }))).toMatchObject({ code, param });
  });
});

describe('syndromic STI table', () => {
  test('the shipped table is a draft awaiting clinical review and cites WHO 2021 and 2016', () => {
    const t = defaultStiTable();
    expect(t.reviewStatus).toBe('draft — needs clinical review');
    expect(t.source.join(' ')).toMatch(/symptomatic sexually transmitted infections.*2021/);
    expect(t.source.filter((s) => /2016/.test(s))).toHaveLength(4);
  });

  test.each([
    ['urethral-discharge', 'male', false, 'STI.SYN.UD.01', /doxycycline/],
    ['urethral-discharge', 'female', true, 'STI.SYN.UD.02', /azithromycin/],
    ['vaginal-discharge', 'female', false, 'STI.SYN.VD.01', /Metronidazole/],
    ['vaginal-discharge', 'female', true, 'STI.SYN.VD.02', /Metronidazole/],
    ['genital-ulcer', 'male', false, 'STI.SYN.GU.01', /Benzathine penicillin/],
    ['genital-ulcer', 'female', true, 'STI.SYN.GU.02', /Benzathine penicillin/],
    ['lower-abdominal-pain', 'female', true, 'STI.SYN.LAP.01', /refer the same day/],
    ['lower-abdominal-pain', 'female', false, 'STI.SYN.LAP.02', /metronidazole/],
    ['anorectal-discharge', 'male', false, 'STI.SYN.AR.01', /doxycycline/],
    ['anorectal-discharge', 'female', true, 'STI.SYN.AR.02', /azithromycin/],
  ] as const)('%s, %s, pregnant %s → %s', (syndrome, sex, pregnant, rule, regimen) => {
    const out = value(stiSyndromic({ syndrome, sex, pregnant }));
    expect(out.rule).toBe(rule);
    expect(out.tableVersion).toBe(defaultStiTable().version);
    expect(out.options[0]!.regimen).toMatch(regimen);
  });

  test('no pregnancy row prescribes doxycycline', () => {
    for (const row of defaultStiTable().rows.filter((r) => r.pregnant === true)) {
      for (const o of row.options) expect(o.regimen).not.toMatch(/doxycycline/i);
    }
  });

  test('a combination without a row, and a pregnant man, are refused (422)', () => {
    expect(refusal(stiSyndromic({ syndrome: 'vaginal-discharge', sex: 'male', pregnant: false }))).toMatchObject({ code: 'business-rule', param: 'syndrome' });
    expect(refusal(stiSyndromic({ syndrome: 'genital-ulcer', sex: 'male', pregnant: true }))).toMatchObject({ code: 'business-rule', param: 'pregnant' });
  });

  describe('a programme edit', () => {
    const dir = mkdtempSync(join(tmpdir(), 'linkcare-sti-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    const shipped = JSON.parse(readFileSync(STI_TABLE_FILE, 'utf8')) as { version: string; rows: { rule: string; options: unknown[] }[] };
    const write = (table: unknown): string => {
      const file = join(dir, `t-${Math.random().toString(36).slice(2)}.json`);
      writeFileSync(file, JSON.stringify(table));
      return file;
    };

    test('changes the answer without a code change', () => {
      const edited = { ...shipped, version: '2.0.0', rows: shipped.rows.map((r) => (r.rule === 'STI.SYN.GU.01' ? { ...r, options: [{ regimen: 'Local regimen X', note: 'National guideline 2026' }] } : r)) };
      const out = value(stiSyndromic({ syndrome: 'genital-ulcer', sex: 'female', pregnant: false }, loadStiTable(write(edited))));
      expect(out).toMatchObject({ tableVersion: '2.0.0', rule: 'STI.SYN.GU.01', options: [{ regimen: 'Local regimen X' }] });
    });

    test('that breaks the table schema or repeats a rule id is refused when loaded', () => {
      expect(() => loadStiTable(write({ ...shipped, rows: [{ rule: 'STI.SYN.X.01', syndrome: 'sore-throat', options: [] }] }))).toThrow(/not a valid syndromic STI table/);
      expect(() => loadStiTable(write({ ...shipped, rows: [shipped.rows[0], shipped.rows[0]] }))).toThrow(/names more than one row/);
    });
  });
});

describe('hepatitis B vaccination schedule', () => {
  const now = new Date('2025-06-01T08:00:00Z');

  test.each([
    ['standard, no dose yet → first dose today', 'standard', [], { nextDoseDate: '2025-06-01', rule: 'HBV.STD.01' }],
    ['standard, one dose → 1 month later', 'standard', ['2024-01-31'], { nextDoseDate: '2024-02-29', rule: 'HBV.STD.02' }],
    ['standard, two doses → 6 months after the first', 'standard', ['2024-01-10', '2024-02-10'], { nextDoseDate: '2024-07-10', rule: 'HBV.STD.03' }],
    ['standard, a late second dose pushes the third', 'standard', ['2024-01-10', '2024-06-01'], { nextDoseDate: '2024-11-01', rule: 'HBV.STD.03' }],
    ['standard, three doses → complete', 'standard', ['2024-01-10', '2024-02-10', '2024-07-10'], { complete: true, rule: 'HBV.STD.04' }],
    ['accelerated, one dose → day 7', 'accelerated', ['2025-01-01'], { nextDoseDate: '2025-01-08', rule: 'HBV.ACC.02' }],
    ['accelerated, two doses → day 21', 'accelerated', ['2025-01-01', '2025-01-08'], { nextDoseDate: '2025-01-22', rule: 'HBV.ACC.03' }],
    ['accelerated, three doses → booster at 12 months', 'accelerated', ['2025-01-01', '2025-01-08', '2025-01-22'], { nextDoseDate: '2026-01-01', rule: 'HBV.ACC.04' }],
    ['accelerated, booster given → complete', 'accelerated', ['2024-01-01', '2024-01-08', '2024-01-22', '2025-01-02'], { complete: true, rule: 'HBV.ACC.05' }],
  ] as const)('%s', (_what, schedule, doseDates, expected) => {
    expect(value(hbvVaccinationSchedule({ schedule, doseDates: [...doseDates] }, now))).toEqual(expected);
  });

  test.each([
    ['doses out of order', ['2024-03-01', '2024-02-01'], 'business-rule'],
    ['two doses on one day', ['2024-03-01', '2024-03-01'], 'business-rule'],
    ['a dose in the future', ['2025-06-03'], 'business-rule'],
    ['a date the calendar lacks', ['2023-02-29'], 'invalid'],
  ])('refuses %s', (_what, doseDates, code) => {
    expect(refusal(hbvVaccinationSchedule({ schedule: 'standard', doseDates }, now))).toMatchObject({ code, param: 'doseDate' });
  });
});
