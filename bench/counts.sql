-- SPDX-License-Identifier: Apache-2.0
-- The counts table of an estate made with SQL (bench/summary.sh,
-- bench/dashboard.sh): the statements schema 4's migration runs
-- (collector/store.c), then statistics for the planner.
DELETE FROM counts;
INSERT INTO counts SELECT grp, '#', 'enrolled', COUNT(*) FROM devices GROUP BY grp;
INSERT INTO counts SELECT grp, '', status, COUNT(*) FROM devices
WHERE status IS NOT NULL GROUP BY grp, status;
INSERT INTO counts SELECT d.grp, c.check_id, c.status, COUNT(*)
FROM checks_latest c JOIN devices d ON d.id = c.device_id
GROUP BY d.grp, c.check_id, c.status;
ANALYZE;
