/** @jsxImportSource hono/jsx */
import type { Child } from 'hono/jsx';
import type { AuthTexts } from '../../auth/page-texts.js';
import { MIN_PASSWORD_LENGTH } from '../../auth/passwords.js';
import type { User } from '../../auth/user-store.js';

/**
 * The login and account pages: server-rendered, no script, forms that work without JavaScript.
 * Every form carries the CSRF token in `_csrf`.
 */

const CSS = `
*,*::before,*::after{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI","PingFang SC","Microsoft YaHei",sans-serif;color:#1a1a1a;background:#f4f5f7}
main{max-width:28rem;margin:2rem auto;padding:1rem}
h1{font-size:1.5rem;margin:.5rem 0 1rem}
h2{font-size:1.15rem;margin:0 0 .5rem}
section{background:#fff;border:1px solid #d8dbe0;border-radius:.5rem;padding:1rem;margin:1rem 0}
label{display:block;font-weight:600;margin:.75rem 0 .25rem}
input{width:100%;padding:.5rem;border:1px solid #8a9099;border-radius:.375rem;font:inherit}
button{margin-top:1rem;padding:.5rem 1rem;border:0;border-radius:.375rem;background:#0b5394;color:#fff;font:inherit;cursor:pointer}
button.secondary{background:#5a6270}
.hint{color:#444;font-size:.875rem;margin:.25rem 0 0}
.error{color:#8a1010;background:#fdecec;border:1px solid #e3a5a5;border-radius:.375rem;padding:.5rem .75rem}
.notice{color:#0d4d1f;background:#e7f6ea;border:1px solid #9fd3aa;border-radius:.375rem;padding:.5rem .75rem}
dl{display:grid;grid-template-columns:auto 1fr;gap:.25rem .75rem;margin:0}
dt{color:#444}dd{margin:0;overflow-wrap:anywhere}
`;

function Layout({ t, title, children }: { t: AuthTexts; title: string; children: Child }) {
  return (
    <html lang={t.lang}>
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="robots" content="noindex" />
        <title>{title}</title>
        <style>{CSS}</style>
      </head>
      <body>
        <main>{children}</main>
      </body>
    </html>
  );
}

const Csrf = ({ token }: { token: string }) => <input type="hidden" name="_csrf" value={token} />;

export function LoginPage({
  t,
  csrf,
  next,
  email,
  error,
}: {
  t: AuthTexts;
  csrf: string;
  next: string | null;
  email?: string;
  error?: string | undefined;
}) {
  return (
    <Layout t={t} title={t.loginTitle}>
      <h1>{t.loginTitle}</h1>
      <section>
        {error ? (
          <p class="error" role="alert" id="login-error">
            {error}
          </p>
        ) : null}
        <form method="post" action="/login">
          <Csrf token={csrf} />
          {next ? <input type="hidden" name="next" value={next} /> : null}
          <label for="email">{t.email}</label>
          <input
            id="email"
            name="email"
            type="email"
            autocomplete="username"
            required
            value={email ?? ''}
            aria-describedby={error ? 'login-error' : undefined}
          />
          <label for="password">{t.password}</label>
          <input id="password" name="password" type="password" autocomplete="current-password" required />
          <button type="submit">{t.logIn}</button>
        </form>
      </section>
    </Layout>
  );
}

export function AccountPage({
  t,
  user,
  csrf,
  notice,
  error,
}: {
  t: AuthTexts;
  user: User;
  csrf: string;
  notice?: string | undefined;
  error?: string | undefined;
}) {
  return (
    <Layout t={t} title={t.accountTitle}>
      <h1>{t.accountTitle}</h1>
      {notice ? (
        <p class="notice" role="status">
          {notice}
        </p>
      ) : null}
      <section aria-labelledby="who">
        <h2 id="who">{t.signedInAs}</h2>
        <dl>
          <dt>{t.email}</dt>
          <dd>{user.email}</dd>
          <dt>{t.name}</dt>
          <dd>{user.name}</dd>
          <dt>{t.role}</dt>
          <dd>{t.roles[user.role] ?? user.role}</dd>
        </dl>
        <form method="post" action="/logout">
          <Csrf token={csrf} />
          <button type="submit" class="secondary">
            {t.logOut}
          </button>
        </form>
      </section>
      <section aria-labelledby="password-heading">
        <h2 id="password-heading">{t.changePassword}</h2>
        {error ? (
          <p class="error" role="alert" id="password-error">
            {error}
          </p>
        ) : null}
        <form method="post" action="/account/password">
          <Csrf token={csrf} />
          <input type="hidden" name="username" autocomplete="username" value={user.email} />
          <label for="current-password">{t.currentPassword}</label>
          <input
            id="current-password"
            name="currentPassword"
            type="password"
            autocomplete="current-password"
            required
          />
          <label for="new-password">{t.newPassword}</label>
          <input
            id="new-password"
            name="newPassword"
            type="password"
            autocomplete="new-password"
            minlength={MIN_PASSWORD_LENGTH}
            required
            aria-describedby="new-password-hint"
          />
          <p class="hint" id="new-password-hint">
            {t.newPasswordHint(MIN_PASSWORD_LENGTH)}
          </p>
          <button type="submit">{t.save}</button>
        </form>
      </section>
      <section aria-labelledby="everywhere-heading">
        <h2 id="everywhere-heading">{t.logoutEverywhere}</h2>
        <p class="hint" id="everywhere-hint">
          {t.logoutEverywhereHint}
        </p>
        <form method="post" action="/account/logout-everywhere">
          <Csrf token={csrf} />
          <button type="submit" class="secondary" aria-describedby="everywhere-hint">
            {t.logoutEverywhereButton}
          </button>
        </form>
      </section>
    </Layout>
  );
}
