-- What a settlement reads, as text to hash: every upload's content and registry version, and the
-- outlet registry's allocation-relevant columns. Same ledger content => same text, on any machine.
-- (An outlet's RPM is appended only when set, so ledgers without RPMs keep their fingerprints.)
SELECT line FROM (
    SELECT 'upload ' || content_sha256 || ' ' || registry_version AS line FROM uploads
    UNION ALL
    SELECT 'outlet ' || slug || ' ' || coalesce(CAST(fte AS VARCHAR), '-') || ' '
        || coalesce(CAST(regional_fte AS VARCHAR), '-') || ' ' || coalesce(group_name, '-')
        || coalesce(' rpm ' || CAST(rpm AS VARCHAR), '') FROM outlets
)
ORDER BY line
