#include "service/proto_convert.h"

#include <grpcpp/support/status.h>

namespace adaspring::daemon {

google::protobuf::Timestamp ToTimestamp(std::chrono::system_clock::time_point t) {
  const auto ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  google::protobuf::Timestamp ts;
  ts.set_seconds(ns / 1000000000);
  ts.set_nanos(static_cast<int32_t>(ns % 1000000000));
  return ts;
}

google::protobuf::Timestamp NowTimestamp() { return ToTimestamp(std::chrono::system_clock::now()); }

v1::Configuration ToConfiguration(const engine::ConfigSpace& space, const engine::Config& config,
                                  const engine::ConfigCost& cost) {
  v1::Configuration c;
  c.set_text(space.ToText(config));
  c.set_id(space.ToId(config));
  c.set_precision(config.precision == engine::Precision::kInt8 ? v1::PRECISION_INT8
                                                               : v1::PRECISION_FP32);
  c.set_predicted_accuracy(cost.accuracy);
  c.set_predicted_latency_us(cost.latency_us);
  c.set_memory_bytes(cost.memory_bytes);
  c.set_predicted_energy_uj(cost.energy_uj);
  c.set_energy_estimated(cost.energy_estimated);
  c.set_macs(cost.macs);
  return c;
}

v1::ContextSnapshot ToProto(const context::ContextSnapshot& s) {
  v1::ContextSnapshot p;
  *p.mutable_time() = ToTimestamp(s.time);
  p.set_sequence(s.sequence);
  p.set_memory_available_bytes(s.memory_available_bytes);
  p.set_memory_limit_bytes(s.memory_limit_bytes);
  p.set_memory_used_bytes(s.memory_used_bytes);
  p.set_cpu_busy_fraction(s.cpu_busy_fraction);
  p.set_cpu_freq_khz(s.cpu_freq_khz);
  p.set_cpu_max_freq_khz(s.cpu_max_freq_khz);
  p.set_cpu_count(s.cpu_count);
  p.set_psi_cpu_some_avg10(s.psi_cpu_some_avg10);
  p.set_psi_memory_some_avg10(s.psi_memory_some_avg10);
  p.set_psi_io_some_avg10(s.psi_io_some_avg10);
  p.set_temperature_c(s.temperature_c);
  p.set_temperature_trip_c(s.temperature_trip_c);
  p.set_power_w(s.power_w);
  p.set_battery_percent(s.battery_percent);
  p.set_on_ac(s.on_ac);
  p.set_has_battery(s.has_battery);
  for (const auto& src : s.sources) {
    v1::SourceStatus* st = p.add_sources();
    st->set_name(src.name);
    st->set_state(static_cast<v1::SourceState>(static_cast<int>(src.state)));
    st->set_reason(src.reason);
  }
  p.set_overridden(s.overridden);
  p.set_cpu_quota_cores(s.cpu_quota_cores);
  return p;
}

context::ContextOverride FromProto(const v1::SetContextOverrideRequest& r) {
  context::ContextOverride o;
  if (r.has_memory_limit_bytes()) o.memory_limit_bytes = r.memory_limit_bytes();
  if (r.has_memory_available_bytes()) o.memory_available_bytes = r.memory_available_bytes();
  if (r.has_battery_percent()) o.battery_percent = r.battery_percent();
  if (r.has_on_ac()) o.on_ac = r.on_ac();
  if (r.has_temperature_c()) o.temperature_c = r.temperature_c();
  if (r.has_cpu_busy_fraction()) o.cpu_busy_fraction = r.cpu_busy_fraction();
  if (r.has_power_w()) o.power_w = r.power_w();
  return o;
}

std::string Clip(std::string_view value, size_t max_bytes) {
  if (value.size() <= max_bytes) return std::string(value);
  return absl::StrCat(absl::string_view(value.data(), max_bytes), "...(", value.size(), " bytes)");
}

grpc::Status ToGrpc(const absl::Status& s) {
  if (s.ok()) return grpc::Status::OK;
  std::string message(s.message());
  if (message.size() > kMaxStatusMessageBytes) {
    const size_t keep = kMaxStatusMessageBytes / 2 - 32;
    message = absl::StrCat(message.substr(0, keep), " [... ", message.size() - 2 * keep,
                           " bytes cut ...] ", message.substr(message.size() - keep));
  }
  // absl and gRPC share the canonical code numbering.
  return grpc::Status(static_cast<grpc::StatusCode>(static_cast<int>(s.code())),
                      std::move(message));
}

}  // namespace adaspring::daemon
