// stream.js: the live tail's connection: an EventSource on /api/stream for a filter,
// after a given row. When it breaks, the browser would reconnect with the old ?after=;
// instead it is closed and, 2 s later, onLost() lets the list open a new one from the
// newest row it shows then, so nothing is shown twice or missed. The page's body has
// the class live-broken while a connection is broken.

import { streamUrl } from './api.js';

const RETRY_MS = 2000;

export class LiveStream {
  // onRow(row) for each new row; onLost() when a broken connection may be reopened.
  constructor({ onRow, onLost }) {
    this.onRow = onRow;
    this.onLost = onLost;
    this.source = null;
    this.retryTimer = null;
  }

  open(filters, after) {
    this.close();
    const src = new EventSource(streamUrl(filters, after));
    this.source = src;
    document.body.classList.remove('live-broken');
    src.addEventListener('row', (e) => {
      let row;
      try {
        row = JSON.parse(e.data);
      } catch {
        return;
      }
      this.onRow(row);
    });
    src.addEventListener('open', () => document.body.classList.remove('live-broken'));
    src.addEventListener('error', () => {
      if (this.source !== src) return;
      document.body.classList.add('live-broken');
      this.close();
      this.retryTimer = setTimeout(() => this.onLost(), RETRY_MS);
    });
  }

  close() {
    clearTimeout(this.retryTimer);
    this.retryTimer = null;
    if (this.source) {
      this.source.close();
      this.source = null;
    }
  }
}
