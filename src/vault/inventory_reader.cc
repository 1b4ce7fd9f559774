#include "vault/inventory_reader.h"

#include <string_view>

#include "core/error.h"

namespace gb {
namespace {

// Collects the output in memory, refusing more than `limit` bytes.
class BoundedBufferSink : public ByteSink {
 public:
  BoundedBufferSink(uint64_t limit, const std::string& job_id) : limit_(limit), job_id_(job_id) {}
  void Write(std::span<const uint8_t> data) override {
    if (data.size() > limit_ - bytes_.size()) {
      throw Error(Code::kCorruption, "the output of inventory job " + job_id_ +
                                         " is longer than the " + std::to_string(limit_) +
                                         " bytes an inventory may hold (damaged, or a hostile "
                                         "vault?)");
    }
    bytes_.append(reinterpret_cast<const char*>(data.data()), data.size());
  }
  using ByteSink::Write;
  void Finish() override {}
  std::string_view text() const { return bytes_; }

 private:
  uint64_t limit_;
  const std::string& job_id_;
  std::string bytes_;
};

}  // namespace

Inventory ReadInventory(Vault& vault, const std::string& job_id, uint64_t max_bytes) {
  BoundedBufferSink out(max_bytes, job_id);
  vault.ReadJobOutput(job_id, std::nullopt, out);
  return ParseInventory(out.text());
}

}  // namespace gb
