#include "engine/fleet_view.h"

#include <map>

#include "catalog/vault_state.h"
#include "core/stream.h"
#include "engine/bundle.h"

namespace gb {
namespace {

constexpr int64_t kDay = 86400;

// What the vault holds now where it lists at once; else the inventory cache (the
// last inventory, plus what this host uploaded since).
std::vector<ArchiveInfo> Listing(Workspace& ws, Vault& vault, FleetView* view) {
  std::vector<ArchiveInfo> out;
  if (vault.Capabilities().immediate_listing) {
    std::string id = vault.StartInventory();
    BufferSink sink;
    vault.ReadJobOutput(id, std::nullopt, sink);
    view->fresh_listing = true;
    return ParseInventory(std::string_view(reinterpret_cast<const char*>(sink.bytes.data()),
                                           sink.bytes.size()))
        .archives;
  }
  VaultState state(ws.catalog());
  if (auto d = state.GetMeta("last_inventory_date"); d && *d != "0")
    view->listing_date = std::stoll(*d);
  for (const VaultArchive& a : state.Archives())
    out.push_back({a.archive_id, a.description, a.created, a.size, a.tree_hash});
  return out;
}

}  // namespace

FleetView BuildFleetView(Workspace& ws, Vault& vault, Clock& clock) {
  const Config& cfg = ws.config();
  FleetView view;
  view.size_limit = cfg.fleet_size_limit;
  view.stale_after_days = cfg.fleet_stale_after_days;
  const uint64_t overhead = vault.Capabilities().per_archive_overhead_bytes;
  const int64_t now = clock.NowSeconds();
  std::map<std::string, HostView> hosts;
  for (const ArchiveInfo& a : Listing(ws, vault, &view)) {
    view.total_bytes += a.size + overhead;
    std::optional<ParsedDescription> d = ParseDescription(a.description);
    if (!d) {
      ++view.foreign_archives;
      continue;
    }
    HostView& h = hosts[d->host];
    h.host = d->host;
    h.sets.insert(d->set_id);
    ++h.archives;
    h.billed_bytes += a.size + overhead;
    // The backup time the description carries, from the host's own clock: what
    // "has it backed up lately" means; a store's upload time where it has none.
    h.newest_upload = std::max(h.newest_upload, d->last_time ? d->last_time : a.created);
  }
  for (auto& [name, h] : hosts) {
    h.age_days = std::max<int64_t>(0, (now - h.newest_upload) / kDay);
    h.stale = h.age_days > view.stale_after_days;
    if (h.stale) view.stale_hosts.push_back(name);
    view.hosts.push_back(h);
  }
  return view;
}

}  // namespace gb
