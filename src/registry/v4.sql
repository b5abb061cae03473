-- Schema 4: what reconcile last saw of a job's pane, for turn-end and stuck
-- detection.
ALTER TABLE jobs ADD COLUMN activity_seen INTEGER;  -- tmux window_activity (unix s) last classified
ALTER TABLE jobs ADD COLUMN stuck_at INTEGER;       -- when it was flagged stuck (unix ms), if it is
