/** The extension's own icon: three linked nodes, coloured by the theme through `jp-icon3`. */

import { LabIcon } from '@jupyterlab/ui-components';

// Inline so the compiled `lib/` needs no path back into the sources to find it.
const svgstr = `<svg xmlns="http://www.w3.org/2000/svg" width="16" viewBox="0 0 24 24">
  <g class="jp-icon3" fill="#616161">
    <path d="M5 3a3 3 0 1 1 0 6 3 3 0 0 1 0-6zm0 1.6a1.4 1.4 0 1 0 0 2.8 1.4 1.4 0 0 0 0-2.8z"/>
    <path d="M19 3a3 3 0 1 1 0 6 3 3 0 0 1 0-6zm0 1.6a1.4 1.4 0 1 0 0 2.8 1.4 1.4 0 0 0 0-2.8z"/>
    <path d="M12 15a3 3 0 1 1 0 6 3 3 0 0 1 0-6zm0 1.6a1.4 1.4 0 1 0 0 2.8 1.4 1.4 0 0 0 0-2.8z"/>
    <path d="M8 5.2h8v1.6H8z"/>
    <path d="M6.2 8.4l1.4-.8 3.6 6.4-1.4.8z"/>
    <path d="M17.8 8.4l-1.4-.8-3.6 6.4 1.4.8z"/>
  </g>
</svg>`;

/** Icon of the sidebar tab and of the settings page; the settings schema names it. */
export const mlopsIcon = new LabIcon({ name: 'jupyter-mlops:mlops', svgstr });
