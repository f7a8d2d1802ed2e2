/** @jsxImportSource hono/jsx */
import { newRoutes, routeRegistrar } from '../../http/openapi.js';
import { addStyles } from '../assets.js';
import { type ConsoleDeps, PAGE, render, viewer } from '../context.js';
import { notificationRuleSettingsPages } from '../settings/notification-rules.js';
import { SETTINGS_TEXTS as T } from '../settings/texts.js';
import { tokenSettingsPages } from '../settings/tokens.js';
import { userSettingsPages } from '../settings/users.js';

addStyles(
  'ul.settings-pages{list-style:none;padding:0}fieldset{border:1px solid #d8dbe0;border-radius:.375rem;margin:0 0 1rem;padding:.5rem 1rem}fieldset.recipient{display:grid;gap:0 1rem;grid-template-columns:repeat(auto-fit,minmax(12rem,1fr))}fieldset.recipient legend{font-weight:600}',
);

/**
 * Settings: users, API tokens and notification rules for an admin; everyone else sees their own
 * API tokens (tokens are every role's, as in the API).
 */
export function settingsPages(cd: ConsoleDeps) {
  const app = newRoutes();
  const route = routeRegistrar(app, { tag: 'Console', entity: 'settings', db: cd.deps.db });
  route(
    {
      method: 'get',
      path: '/settings',
      access: 'read',
      operationId: 'consoleSettings',
      summary: 'Settings: users, API tokens, notification rules (an admin); your API tokens (anyone)',
      responses: PAGE,
    },
    (c) => {
      const { locale, can } = viewer(c);
      const tt = T[locale];
      const pages = can('admin')
        ? [
            { href: '/console/settings/users', title: tt.users, intro: tt.usersIntro },
            { href: '/console/settings/tokens', title: tt.tokens, intro: tt.tokensIntro },
            { href: '/console/settings/notifications', title: tt.rules, intro: tt.rulesIntro },
          ]
        : [{ href: '/console/settings/tokens', title: tt.myTokens, intro: tt.tokensIntro }];
      return render(
        c,
        { title: tt.title, nav: 'settings' },
        <>
          <h1>{tt.title}</h1>
          <nav aria-label={tt.sections}>
            <ul class="grid settings-pages">
              {pages.map((p) => (
                <li class="card">
                  <h2>
                    <a href={p.href}>{p.title}</a>
                  </h2>
                  <p class="muted">{p.intro}</p>
                </li>
              ))}
            </ul>
          </nav>
        </>,
      );
    },
  );
  userSettingsPages(app, cd);
  tokenSettingsPages(app, cd);
  notificationRuleSettingsPages(app, cd);
  return app;
}
