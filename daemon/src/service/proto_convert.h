// Conversions between daemon/engine/context types and the v1 protos, and absl::Status ->
// grpc::Status (the only place that conversion happens).
#ifndef ADASPRING_DAEMON_SERVICE_PROTO_CONVERT_H_
#define ADASPRING_DAEMON_SERVICE_PROTO_CONVERT_H_

#include <chrono>

#include "absl/status/status.h"
#include "adaspring/v1/admin.pb.h"
#include "adaspring/v1/common.pb.h"
#include "context/snapshot.h"
#include "google/protobuf/timestamp.pb.h"
#include "models/loaded_model.h"

namespace grpc {
class Status;
}

namespace adaspring::daemon {

google::protobuf::Timestamp ToTimestamp(std::chrono::system_clock::time_point t);
google::protobuf::Timestamp NowTimestamp();
v1::Configuration ToConfiguration(const engine::ConfigSpace& space, const engine::Config& config,
                                  const engine::ConfigCost& cost);
v1::ContextSnapshot ToProto(const context::ContextSnapshot& snapshot);
context::ContextOverride FromProto(const v1::SetContextOverrideRequest& request);
// The status as gRPC sends it. A message longer than kMaxStatusMessageBytes keeps its start
// and its end (where the rule usually is) around a "[... N bytes cut ...]" marker: gRPC
// clients drop trailers over ~8 KiB and would see RESOURCE_EXHAUSTED instead of the code.
inline constexpr size_t kMaxStatusMessageBytes = 2048;
grpc::Status ToGrpc(const absl::Status& status);

// A client-supplied value for an error message: at most `max_bytes` of it, then
// "...(N bytes)". Error messages name the bad value without echoing megabytes back.
std::string Clip(std::string_view value, size_t max_bytes = 80);

}  // namespace adaspring::daemon

#endif  // ADASPRING_DAEMON_SERVICE_PROTO_CONVERT_H_
