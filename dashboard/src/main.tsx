/** Entry point: adopts a `#token=` from the URL once, then renders the app. */
import { render } from 'preact';
import { App } from './app.tsx';
import { adoptTokenFromUrl } from './auth.ts';
import './styles.css';

adoptTokenFromUrl();
const root = document.getElementById('app');
if (root !== null) {
  render(<App />, root);
  // For the end-to-end tests' "time to first render" report.
  performance.mark('acd-first-render');
}
