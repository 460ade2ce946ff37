@echo off
rem `oauth-anywhere` in VS Code's integrated terminals on Windows (see bin/oauth-anywhere).
setlocal
set ELECTRON_RUN_AS_NODE=1
if not defined OAUTH_ANYWHERE_NODE set "OAUTH_ANYWHERE_NODE=node"
"%OAUTH_ANYWHERE_NODE%" "%~dp0..\dist\cli.js" %*
