-- Schema 8: whether mam wired its MCP server (`mam mcp`) into the job's
-- agent, so that a resume starts it the same way and explain/whoami say so.
ALTER TABLE jobs ADD COLUMN mcp INTEGER NOT NULL DEFAULT 0;
