/**
 * A list field of the identity provider's metadata (`grant_types_supported`,
 * `code_challenge_methods_supported`): its strings, or undefined when it is absent or no list at all.
 * The metadata is the identity provider's JSON; a field of the wrong type counts as not listed
 * rather than failing a sign-in or a report with a TypeError.
 */
export function listedStrings(value: unknown): string[] | undefined {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : undefined;
}
