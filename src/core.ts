// The OAuth core as the shell loads it: a bundle of its own (dist/core.js), required on the first
// sign-in, refresh, sign-out or troubleshooting run, never at activation or for serving stored
// sessions. Everything the shell needs at run time from src/oauth and src/diagnostics comes from here.
export { OAuthClient } from './oauth/client.js';
export { signInWithDeviceGrant } from './oauth/deviceGrant.js';
export { signInWithLoopback } from './oauth/loopback.js';
export { renderReport, troubleshoot } from './diagnostics/troubleshoot.js';
