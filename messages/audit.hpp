#pragma once

// What an actor reports for the audit log and the metrics: one decision or
// state transition of a tenant. The metrics actor turns these into audit
// lines (with a sequence number and the wall-clock time) and counters.
//
// Fields hold facts (a status, a delay, a reason from the service), never a
// token or a secret: every sender is responsible for that, and tests search
// all output for the secrets they configured.

#include <string>
#include <utility>
#include <vector>

#include <caf/meta/type_name.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

namespace gcstream {

/// One audit entry, before the metrics actor stamps it.
struct audit_event {
  std::string tenant;
  /// What happened: "token_refreshed", "token_revoked", "connected", ...
  std::string event;
  /// Details as name and value; values are JSON literals' text (numbers as
  /// digits, everything else as a string to quote).
  std::vector<std::pair<std::string, std::string>> fields;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, audit_event& x) {
  return f(caf::meta::type_name("gcstream::audit_event"), x.tenant, x.event,
           x.fields);
}

/// Whoever takes audit events (the metrics actor; a test's recorder).
using audit_actor = caf::typed_actor<caf::reacts_to<audit_event>>;

} // namespace gcstream
