// Type declarations for Onramp's embed script (static/connect.js). Copy this file into your
// project; the script itself stays a plain <script> tag, no npm package needed.
//
//   <script src="https://ONRAMP/static/connect.js"></script>
//   const flow = Onramp.open({ url, onSuccess, onExit, onEvent });

declare namespace Onramp {
  /** What happened in the flow, in order of a typical run. */
  type EventName =
    | "READY" // the flow loaded (once per open)
    | "OPEN" // the first screen is shown
    | "SELECT_SYSTEM" // the user picked a system
    | "VIEW_GUIDE" // the setup guide of a method is shown
    | "HANDOFF" // the guide was shared with someone else (meta.via: "copy" | "email")
    | "ENTER_DETAILS" // the details form is shown
    | "SUBMIT" // the details were submitted for the live check
    | "VALIDATION_FAILED" // the live check failed (meta.error_code)
    | "SYSTEM_REQUESTED" // the user asked for a system that is not in the catalog
    | "ERROR" // the link cannot be used (meta.error_code: "locked" | "expired" | ...)
    | "EXIT"; // the user left (meta.screen), just before onExit

  interface Meta {
    link_session_id: string;
    system?: string;
    method?: string;
    error_code?: string;
    screen?: string;
    via?: "copy" | "email";
  }

  interface ExitMeta extends Meta {
    /** Set when the partner's page closed the flow itself, before it had loaded. */
    reason?: "escape" | "closed";
  }

  interface ExitError {
    /** Why the link could not be used: "locked", "expired", ... (null when the user left). */
    code: string;
  }

  interface OpenOptions {
    /** The link session's `url` from POST /api/v1/link-sessions. */
    url: string;
    /** The dialog's accessible name. */
    title?: string;
    /**
     * Close the dialog by itself this many milliseconds after `onSuccess` (0: at once).
     * Left out, the "connected" screen stays until the user presses Continue or closes it.
     */
    closeDelay?: number;
    /** Exchange `publicToken` on your server: POST /api/v1/token-exchange. */
    onSuccess?(publicToken: string, meta: Meta): void;
    onExit?(error: ExitError | null, meta: ExitMeta): void;
    onEvent?(name: EventName, meta: Meta): void;
  }

  interface Handle {
    /** Close the flow from your page (onExit is called with reason "closed"). */
    close(): void;
  }

  function open(options: OpenOptions): Handle;
}

interface Window {
  Onramp: typeof Onramp;
}
