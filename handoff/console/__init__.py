"""The ops console: server-rendered pages for RevOps and sales managers (docs/console.md)."""
