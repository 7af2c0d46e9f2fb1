/**
 * @module util/numeric-date
 * A date written in digits ("12/03/2024", "2024-03-12"): not a code, not a phone number. Shared by
 * entity detection and the decision table, which both tell codes from dates.
 */
export const NUMERIC_DATE = /^(?:\d{1,2}[/.-]\d{1,2}[/.-](?:\d{4}|\d{2})|\d{4}[/.-]\d{1,2}[/.-]\d{1,2})$/;
