-- Schema 6: a job's own git worktree (`mam create --worktree`): where it is,
-- the repository it belongs to, its branch, the base it was made from (the
-- ref as given and the commit it named then, for ahead/behind and merge
-- checks), the untracked files mam copied into it, and whether it is still
-- there (`present`, `missing`: deleted outside mam, `removed`: by mam).
ALTER TABLE jobs ADD COLUMN worktree TEXT;
ALTER TABLE jobs ADD COLUMN worktree_repo TEXT;
ALTER TABLE jobs ADD COLUMN worktree_branch TEXT;
ALTER TABLE jobs ADD COLUMN worktree_base_ref TEXT;
ALTER TABLE jobs ADD COLUMN worktree_base_commit TEXT;
ALTER TABLE jobs ADD COLUMN worktree_copied TEXT NOT NULL DEFAULT '[]';
ALTER TABLE jobs ADD COLUMN worktree_state TEXT;
