/// <reference types="vite/client" />

interface ImportMetaEnv {
  /**
   * The API's URL when the dashboard is served from another origin (the AWS static site; set at build
   * by infra/dashboard.ts). Unset locally: the API is the page's own origin.
   */
  readonly VITE_API_URL?: string;
}
