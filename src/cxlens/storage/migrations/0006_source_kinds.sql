-- cxlens schema, version 6: what a source may change (docs/api.md, "Server and browser sources").
-- A browser source's write key is public (it ships in a web page or an app), so its calls may
-- link anonymous ids and add traits, but may not merge identified profiles or overwrite what a
-- server source or an import set. Sources made before this version keep working as server sources.

ALTER TABLE sources ADD COLUMN kind VARCHAR DEFAULT 'server';   -- server or browser
UPDATE sources SET kind = 'server' WHERE kind IS NULL;

-- When a trusted writer (an import or a server source) last set the profile's fields; NULL while
-- only browser sources have. Existing profiles count as trusted: nothing says otherwise.
ALTER TABLE customers ADD COLUMN trusted_at TIMESTAMPTZ;
UPDATE customers SET trusted_at = updated_at;
