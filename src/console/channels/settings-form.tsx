/** @jsxImportSource hono/jsx */
import type { z } from 'zod';
import type { ConnectorDefinition } from '../../../connectors/contract.js';
import { Checkbox, Field, Select } from '../components.js';
import type { FieldErrors, FormObject } from '../forms.js';
import type { ConsoleLocale } from '../texts.js';
import { CT } from './texts.js';

/**
 * One input per setting of a connector's settings schema (a zod object): text, number, a checkbox
 * for a boolean, a select for an enum. Secret settings are write-only: a password input that is
 * never filled, with "set" / "not set" beside it; left empty on an edit, the stored value stays.
 */

type Def = { type: string; [k: string]: unknown };
// biome-ignore lint/suspicious/noExplicitAny: zod's internals differ per schema kind
const defOf = (schema: z.ZodType): Def => (schema as any)._zod.def as Def;

export type SettingKind = 'text' | 'number' | 'boolean' | 'select' | 'datetime';

export interface SettingField {
  name: string;
  kind: SettingKind;
  required: boolean;
  secret: boolean;
  options: string[];
  defaultValue: unknown;
  integer: boolean;
}

/** The fields of a connector's settings, in the schema's order. */
export function settingFields(connector: ConnectorDefinition<unknown>): SettingField[] {
  const root = defOf(connector.manifest.settingsSchema);
  const shape = (root.shape ?? {}) as Record<string, z.ZodType>;
  return Object.entries(shape).map(([name, schema]) => {
    let s = schema;
    let optional = false;
    let defaultValue: unknown;
    for (let i = 0; i < 20; i++) {
      const d = defOf(s);
      if (d.type === 'default' || d.type === 'prefault') {
        optional = true;
        const v = d.defaultValue;
        defaultValue = typeof v === 'function' ? (v as () => unknown)() : v;
      }
      if (d.type === 'optional') optional = true;
      if (['optional', 'nullable', 'default', 'prefault', 'catch', 'readonly'].includes(d.type))
        s = d.innerType as z.ZodType;
      else if (d.type === 'pipe') s = d.in as z.ZodType;
      else break;
    }
    const d = defOf(s);
    const checks = ((d.checks ?? []) as { _zod?: { def?: { check?: string; format?: string } } }[]).map(
      (c) => c._zod?.def,
    );
    const kind: SettingKind =
      d.type === 'boolean'
        ? 'boolean'
        : d.type === 'number' || d.type === 'int'
          ? 'number'
          : d.type === 'enum'
            ? 'select'
            : d.type === 'string' && (d.format === 'datetime' || checks.some((c) => c?.format === 'datetime'))
              ? 'datetime'
              : 'text';
    const integer =
      d.type === 'int' ||
      d.format === 'safeint' ||
      checks.some((c) => c?.format === 'safeint' || c?.format === 'int32' || c?.check === 'number_format');
    const entries = d.entries as Record<string, string> | undefined;
    return {
      name,
      kind,
      required: !optional,
      secret: connector.manifest.secretFields.includes(name),
      options: kind === 'select' && entries ? Object.values(entries) : [],
      defaultValue,
      integer,
    };
  });
}

const humanise = (name: string) =>
  name.replace(/([a-z])([A-Z])/g, '$1 $2').replace(/^./, (c) => c.toUpperCase());

/** A setting's label in the page's language (its name when the console has no words for it). */
export const settingLabel = (locale: ConsoleLocale, name: string) =>
  (CT[locale].settingLabels as Record<string, string>)[name] ?? humanise(name);

/** An enum value's words in the page's language. */
export const optionLabel = (locale: ConsoleLocale, value: string) =>
  (CT[locale].settingOptions as Record<string, string>)[value] ?? value;

export function SettingsFields({
  connector,
  locale,
  current,
  secretsSet,
  values,
  errors,
}: {
  connector: ConnectorDefinition<unknown>;
  locale: ConsoleLocale;
  /** The channel's settings now (secrets left out), on an edit. */
  current?: Record<string, unknown> | undefined;
  /** Secret settings that hold a value (edit). */
  secretsSet?: ReadonlySet<string> | undefined;
  values?: FormObject | undefined;
  errors?: FieldErrors | undefined;
}) {
  const t = CT[locale];
  const settingValues = values;
  return (
    <fieldset>
      <legend>{t.settingsOf(connector.manifest.displayName)}</legend>
      {settingFields(connector).map((f) => {
        const name = `settings.${f.name}`;
        const label = `${settingLabel(locale, f.name)}${f.required ? '' : ` (${t.optional})`}`;
        const now = current ? current[f.name] : f.defaultValue;
        if (f.secret) {
          const set = secretsSet?.has(f.name) ?? false;
          return (
            <Field
              name={name}
              label={`${settingLabel(locale, f.name)} — ${set ? t.secretSet : t.secretNotSet}`}
              type="password"
              value=""
              errors={errors}
              hint={current ? t.secretKeepHint : t.secretHint}
              attrs={{ autocomplete: 'new-password' }}
            />
          );
        }
        if (f.kind === 'boolean')
          return (
            <Checkbox
              name={name}
              label={label}
              checked={Boolean(now)}
              values={settingValues}
              errors={errors}
            />
          );
        if (f.kind === 'select')
          return (
            <Select
              name={name}
              label={label}
              value={now === undefined || now === null ? '' : String(now)}
              values={settingValues}
              errors={errors}
              options={f.options.map((o) => ({ value: o, label: optionLabel(locale, o) }))}
            />
          );
        return (
          <Field
            name={name}
            label={label}
            type={f.kind === 'number' ? 'number' : 'text'}
            value={now === undefined || now === null ? '' : String(now)}
            values={settingValues}
            errors={errors}
            hint={f.kind === 'datetime' ? t.datetimeHint : undefined}
            attrs={f.kind === 'number' ? { step: f.integer ? 1 : 'any', inputmode: 'numeric' } : {}}
          />
        );
      })}
    </fieldset>
  );
}
