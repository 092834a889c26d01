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
grpc::Status ToGrpc(const absl::Status& status);

}  // namespace adaspring::daemon

#endif  // ADASPRING_DAEMON_SERVICE_PROTO_CONVERT_H_
