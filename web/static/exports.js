// exports.js: the export links (CSV, NDJSON, HAR) in the top bar, pointed at the
// list's filter. A click on HAR asks the server first and, when the answer is an error
// (a bad filter, a lost session), shows its message instead of saving it as a file.

import { $ } from './dom.js';
import { exportUrl, checkDownload } from './api.js';

const FORMATS = ['csv', 'ndjson', 'har'];

export class ExportLinks {
  // The links are #export-csv, #export-ndjson, #export-har; onError(err).
  constructor({ onError }) {
    this.onError = onError;
    $('#export-har').addEventListener('click', (e) => this.checkFirst(e));
  }

  update(filters) {
    for (const f of FORMATS) $(`#export-${f}`).href = exportUrl(f, filters);
  }

  async checkFirst(e) {
    const a = e.currentTarget;
    if (a.dataset.checked === a.href) return; // checked just now: let the download go
    e.preventDefault();
    try {
      await checkDownload(a.href);
    } catch (err) {
      this.onError(err);
      return;
    }
    a.dataset.checked = a.href;
    a.click();
    delete a.dataset.checked;
  }
}
