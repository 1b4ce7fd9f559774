#include "engine/fleet_cap.h"

#include <algorithm>
#include <map>

#include "core/crash_point.h"
#include "core/human_size.h"
#include "engine/bundle.h"
#include "vault/inventory_reader.h"

namespace gb {

FleetCap::FleetCap(const Config& config, FleetAccess access, Clock& clock,
                   uint64_t per_archive_overhead)
    : config_(config),
      access_(access),
      clock_(clock),
      overhead_(per_archive_overhead),
      limit_(config.fleet_size_limit) {}

FleetCap::~FleetCap() { End(); }

void FleetCap::Begin(const std::vector<VaultArchive>& counted, bool dry_run) {
  if (!active()) return;
  if (access_.lease && !dry_run && !held_) {
    access_.lease->Acquire();
    held_ = true;
    CrashPoint("sync-after-fleet-lease");
  }
  counted_ = counted;
  by_host_.reset();
  others_ = 0;
  if (!access_.listing) return;
  // The total needs the listing only; who holds what (descriptions) only a refusal.
  VaultInfo fleet = access_.listing->Describe();
  uint64_t total = fleet.size_bytes + fleet.archive_count * overhead_, mine = 0;
  for (const VaultArchive& a : counted) mine += a.size + overhead_;
  others_ = total > mine ? total - mine : 0;
}

const std::vector<std::pair<std::string, uint64_t>>& FleetCap::OtherHosts() const {
  if (by_host_) return *by_host_;
  std::map<std::string, uint64_t> hosts;
  auto add = [&](const std::string& description, uint64_t bytes) {
    std::optional<ParsedDescription> d = ParseDescription(description);
    std::string host = d ? d->host : std::string("(not glacier-backup)");
    if (host != config_.host) hosts[host] += bytes;
  };
  std::set<std::string> ids;
  for (const VaultArchive& a : counted_) {
    ids.insert(a.archive_id);
    add(a.description, a.size + overhead_);
  }
  if (access_.listing) {
    Inventory inv = ReadInventory(*access_.listing, access_.listing->StartInventory());
    for (const ArchiveInfo& a : inv.archives)
      if (!ids.count(a.id)) add(a.description, a.size + overhead_);
  }
  by_host_.emplace(hosts.begin(), hosts.end());
  return *by_host_;
}

void FleetCap::Renew() {
  if (held_) access_.lease->Renew();
}

void FleetCap::End() {
  if (held_) access_.lease->Release();
  held_ = false;
}

bool FleetCap::Fits(uint64_t own, uint64_t need) const {
  return !active() || others_ + own + need <= limit_;
}

std::string FleetCap::Refusal(uint64_t own, uint64_t need) const {
  std::vector<std::pair<std::string, uint64_t>> hosts = OtherHosts();
  uint64_t counted_others = 0;
  for (const VaultArchive& a : counted_) {
    std::optional<ParsedDescription> d = ParseDescription(a.description);
    if (!d || d->host != config_.host) counted_others += a.size + overhead_;
  }
  auto self = std::find_if(hosts.begin(), hosts.end(),
                           [&](const auto& h) { return h.first == config_.host; });
  const uint64_t mine = own - std::min(own, counted_others);
  if (self != hosts.end())
    self->second += mine;
  else
    hosts.emplace_back(config_.host, mine);
  std::stable_sort(hosts.begin(), hosts.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  std::string most;
  for (size_t i = 0; i < hosts.size() && i < 3; ++i)
    most += (i ? ", " : "") + hosts[i].first + " " + HumanBytes(hosts[i].second, 2);
  const uint64_t total = others_ + own;
  const uint64_t free = limit_ > total ? limit_ - total : 0;
  return "fleet size cap " + HumanBytes(limit_, 2) + " ([fleet] size_limit): need " +
         HumanBytes(need, 2) + " but the fleet holds " + HumanBytes(total, 2) + " (" +
         HumanBytes(free, 2) + " free" +
         (exact() ? "" : ", as far as this host's inventory knows") +
         "); the hosts holding the most: " + most;
}

}  // namespace gb
