/**
 * The FHIR type of every element, from the official R4 JSON Schema
 * (http://hl7.org/fhir/R4/json.html#schema): de-identification drops elements by what they are
 * (a string, a name, an address…), whatever they are called, so a choice element such as
 * `Task.input.valueHumanName` or `Condition.onsetString` cannot slip past a list of names.
 */
import { type SchemaNode, loadCleanFhirSchema, primitivePatternNames } from './schema';

type TypeTable = Map<string, Map<string, string>>;

let table: TypeTable | undefined;

/** `#/definitions/X` → X. */
function refName(ref: string | undefined): string | undefined {
  return ref?.startsWith('#/definitions/') ? ref.slice('#/definitions/'.length) : undefined;
}

/** Built on first use and kept: a few thousand short strings, while the schema itself is let go. */
function types(): TypeTable {
  if (table) return table;
  const schema = loadCleanFhirSchema();
  // Some primitive elements are inlined as a regex instead of a $ref (choice variants such as
  // onsetString); the regex names the primitive (string and markdown share one: "string").
  const byPattern = primitivePatternNames(schema);
  const typeOf = (node: SchemaNode | undefined): string | undefined =>
    node && (refName(node.$ref) ?? (typeof node.pattern === 'string' ? byPattern[node.pattern] : undefined));
  const built: TypeTable = new Map();
  for (const [name, def] of Object.entries(schema.definitions)) {
    const props = new Map<string, string>();
    for (const [prop, node] of Object.entries(def.properties ?? {})) {
      const type = typeOf(node) ?? typeOf(node.items);
      if (type) props.set(prop, type);
    }
    built.set(name, props);
  }
  return (table = built);
}

/**
 * The definition name of `prop` inside an element of definition `parent` (`Condition`, `Task_Input`,
 * `Quantity`…), or undefined when the schema does not know it (an unknown element, a primitive's
 * own JSON form).
 */
export function elementType(parent: string, prop: string): string | undefined {
  return types().get(parent)?.get(prop);
}
