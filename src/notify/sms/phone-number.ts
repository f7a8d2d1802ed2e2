/**
 * Phone numbers as the notification core hands them over (E.164, `+` and 7 to 15 digits), checked
 * and converted to what each gateway expects.
 */

/** A number that passed `parseE164`: the country calling code is not split off (E.164 has none fixed). */
export interface E164Number {
  /** `+8613800138000` */
  e164: string;
  /** `8613800138000` */
  digits: string;
}

export type PhoneCheck = { ok: true; number: E164Number } | { ok: false; reason: string };

/** Separators people type that carry no meaning: spaces, hyphens, dots, parentheses. */
const SEPARATORS = /[\s\-.()]/g;

/** Checks a recipient number: `+`, a country code not starting with 0, 7 to 15 digits in all. */
export function parseE164(input: string): PhoneCheck {
  const compact = input.replace(SEPARATORS, '');
  if (!compact.startsWith('+'))
    return {
      ok: false,
      reason: 'phone number is not in E.164 form: it must start with + and the country code',
    };
  const digits = compact.slice(1);
  if (!/^\d+$/.test(digits))
    return { ok: false, reason: 'phone number is not in E.164 form: digits only after +' };
  if (digits.startsWith('0'))
    return { ok: false, reason: 'phone number is not in E.164 form: a country code never starts with 0' };
  if (digits.length < 7 || digits.length > 15)
    return {
      ok: false,
      reason: `phone number is not in E.164 form: ${digits.length} digits (7 to 15 expected)`,
    };
  return { ok: true, number: { e164: `+${digits}`, digits } };
}

/** A mainland China mobile number: country code 86, then 11 digits starting with 1. */
const MAINLAND_MOBILE = /^861\d{10}$/;

/**
 * Aliyun SendSms `PhoneNumbers`: a mainland number as its 11 digits without +86; any other as the
 * international calling code followed by the number, without + (dysmsapi SendSms, PhoneNumbers:
 * "国内短信：+86/0086/86或无任何前缀的11位手机号码…国际/港澳台：国际区号+号码，例如852000012****").
 * A +86 number that is not a mainland mobile number cannot receive SMS.
 */
export function aliyunPhoneNumber(number: E164Number): PhoneCheck & { value?: string } {
  if (number.digits.startsWith('86')) {
    if (!MAINLAND_MOBILE.test(number.digits))
      return {
        ok: false,
        reason: 'a +86 number must be a mainland mobile number: 11 digits starting with 1',
      };
    return { ok: true, number, value: number.digits.slice(2) };
  }
  return { ok: true, number, value: number.digits };
}

/** How a generic gateway wants the number: E.164 with +, or the digits alone. */
export type GenericPhoneFormat = 'e164' | 'digits';

export function genericPhoneNumber(number: E164Number, format: GenericPhoneFormat): string {
  return format === 'digits' ? number.digits : number.e164;
}
