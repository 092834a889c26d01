// adaspringctl watch: the daemon's live event stream as readable lines (or JSON lines).
#include <iostream>

#include "absl/strings/str_cat.h"
#include "commands.h"
#include "describe.h"
#include "json_proto.h"
#include "rpc.h"
#include "table.h"

namespace adaspring::ctl {

// Exposed for tests through the binary only; kept here because only watch prints events.
std::string EventLine(const v1::DaemonEvent& e) {
  std::string kind = ShortEnumName("Kind", v1::DaemonEvent::Kind_Name(e.kind()));
  // Padded to the longest kind ("session_opened") plus a space, so the text never touches it.
  kind.resize(std::max<size_t>(kind.size() + 1, 15), ' ');
  std::string text = e.message();
  if (text.empty()) {
    if (e.kind() == v1::DaemonEvent::KIND_EVOLUTION) {
      text = absl::StrCat(e.app_name(), " ", e.session_id(), " ", e.previous().text(), " -> ",
                          e.current().text());
    } else if (e.kind() == v1::DaemonEvent::KIND_CONTEXT) {
      text = DescribeContext(e.context());
    } else {
      text = absl::StrCat(e.app_name(), " ", e.session_id(), " ", e.model());
    }
  }
  if (e.kind() == v1::DaemonEvent::KIND_EVOLUTION && e.reaction_ms() > 0 &&
      text.find(" ms") == std::string::npos) {
    absl::StrAppend(&text, " [reacted in ", FormatFixed(e.reaction_ms(), 1), " ms]");
  }
  return absl::StrCat(FormatTimestamp(e.time(), false), "  ", kind, text);
}

int CmdWatch(const GlobalOptions& g, const WatchOptions& o) {
  auto conn = ConnectAdmin(g, /*mutating=*/false);
  if (!conn.ok()) return Fail(conn.status());
  grpc::ClientContext ctx;
  if (o.seconds > 0) {
    ctx.set_deadline(std::chrono::system_clock::now() +
                     std::chrono::milliseconds(static_cast<int64_t>(o.seconds * 1000)));
  }
  v1::WatchEventsRequest req;
  req.set_all_context_samples(o.all_samples);
  auto reader = conn->stub->WatchEvents(&ctx, req);
  if (!g.json) {
    std::cout << "Watching " << conn->socket << " (Ctrl-C to stop)" << std::endl;
  }
  v1::DaemonEvent e;
  int seen = 0;
  while (reader->Read(&e)) {
    if (g.json) {
      PrintJsonLine(std::cout, ToJson(e));
    } else {
      std::cout << EventLine(e) << "\n";
    }
    std::cout.flush();  // a pipe to grep/jq should see each event at once
    if (o.count > 0 && ++seen >= o.count) {
      ctx.TryCancel();
      while (reader->Read(&e)) {
      }
      (void)reader->Finish();
      return kExitOk;
    }
  }
  const grpc::Status s = reader->Finish();
  if (s.ok() || s.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) return kExitOk;
  return Fail(FromGrpc(s, conn->socket));
}

}  // namespace adaspring::ctl
