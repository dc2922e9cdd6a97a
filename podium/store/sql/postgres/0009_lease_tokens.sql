-- Fencing. Each claim hands out a token of its own (lease_token), which a result shows to
-- prove it comes from the lease in force. lease_key is the key that claimed ('' with auth
-- off), which a result sent without the token must come with; NULL when the claimer sends
-- its token back, so that only a result with the token completes the lease.
ALTER TABLE queue ADD COLUMN lease_token TEXT;
ALTER TABLE queue ADD COLUMN lease_key TEXT;
