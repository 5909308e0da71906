/**
 * Entry point of the no-code page: signs in, wires the routes and renders the current one.
 */
import 'uplot/dist/uPlot.min.css';
import './styles.css';
import { UNAUTHENTICATED_EVENT } from './api.ts';
import { captureTokenFromUrl, clearToken, getToken, signInView } from './auth.ts';
import { comparePage } from './pages/compare.ts';
import { modelsPage } from './pages/models.ts';
import { newRunPage } from './pages/new-run.ts';
import { runPage } from './pages/run.ts';
import { runsPage } from './pages/runs.ts';
import { tryItPage } from './pages/try-it.ts';
import { render, route } from './router.ts';

route('/new', 'new', 'New run', newRunPage);
route('/runs', 'runs', 'Runs', runsPage);
route('/runs/:runId', 'runs', 'Run', runPage);
route('/compare', 'compare', 'Compare runs', comparePage);
route('/models', 'models', 'Models', modelsPage);
route('/models/:modelName', 'models', 'Model', modelsPage);
route('/try', 'try', 'Try it', tryItPage);

const main = document.getElementById('main')!;
const signOut = document.getElementById('sign-out')!;

function show(): void {
  // A login link opened in a tab that already shows the page only changes the hash.
  captureTokenFromUrl();
  if (!getToken()) {
    signOut.hidden = true;
    main.replaceChildren(signInView(show));
    document.title = 'Sign in — droptune';
    return;
  }
  signOut.hidden = false;
  void render(main);
}

window.addEventListener('hashchange', show);
window.addEventListener(UNAUTHENTICATED_EVENT, show);
signOut.addEventListener('click', () => {
  clearToken();
  show();
});
show();
