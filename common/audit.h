// The audit trail: one event per security-relevant act — every login
// attempt and passphrase change (with uid, pid, tty, result, reason and
// throttle delay), every unlock, lock, recovery and failure of the vault.
//
// An audit event is logged like any other (stderr, in the log's format:
// `docker logs` shows it) and, when an audit file is configured, also
// appended to that file as one JSON line in a single write(2), so the file
// can be shipped or kept across restarts (on the persistent volume). Never
// a passphrase, nor its length, nor anything read from the vault: callers
// pass pids, uids, names and results only.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "common/log.h"

namespace tazpod {

// Opens (creates, mode 0600) `path` for appending. Returns an error message,
// or "" on success. Without a call, audit events go to the log alone. A
// file that ends inside a line (a full disk in an earlier run) gets its
// next event on a line of its own.
std::string OpenAuditFile(const std::string& path);

// Logs `event` at `level`, and appends it to the audit file. Which events
// are audit events is listed in docs/logging.md. An event the file cannot
// take (a full disk) is dropped: the first logs audit.write_failed; before
// the next one appended, an audit.gap line in the file says how many are
// missing, as audit.write_resumed does in the log.
// From one thread only (PID 1's loop): it keeps that count.
void Audit(LogLevel level, std::string_view event, std::initializer_list<LogField> fields);
// The same, for a list of fields built at run time.
void AuditFields(LogLevel level, std::string_view event, const std::vector<LogField>& fields);

}  // namespace tazpod
