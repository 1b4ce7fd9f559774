// Who wrote an archive: every archive and every catalog copy carries a
// detached minisign signature by the backup host's signing key. In the cache
// it is the file NAME.minisig beside NAME; in a bundle the member right after
// its file. `minisign -Vm NAME -P RW...` checks it with the stock tool.
//
// The trusted comment (covered by the signature) says what was signed:
//   glacier-backup backup=<backup id> set=<set> sha256=<archive SHA-256>
//   glacier-backup catalog set=<set> sha256=<catalog copy SHA-256>
// so a genuine signature cannot vouch for another archive or another set.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/stream.h"
#include "crypto/minisign.h"
#include "engine/config.h"
#include "engine/progress.h"

namespace gb {

inline constexpr const char* kSignatureSuffix = ".minisig";
// A signature always fits one tar block, so a bundle's layout is known from
// the catalog alone: each signature member takes exactly 1024 bytes. A single
// archive (upload = "each") is followed by its signature padded with NULs to
// kMaxSignatureSize bytes.
inline constexpr uint64_t kMaxSignatureSize = 512;
inline constexpr uint64_t kSignatureMemberSize = 1024;

std::string SignaturePath(const std::string& file_path);  // file_path + ".minisig"

// What a signature must vouch for.
struct SignedThing {
  std::string label;    // for messages: "archive 2026...-full.tar.zst.age", "catalog copy of set 4"
  std::string subject;  // "backup=<id>" or "catalog"
  int64_t set_id = 0;
  std::string sha256;  // expected SHA-256 (hex) when known (the catalog's), else empty
  static SignedThing Archive(const std::string& archive_name, int64_t set_id,
                             const std::string& sha256 = "");
  static SignedThing CatalogCopy(int64_t set_id);
};

// The backup host's side.
class ArchiveSigner {
 public:
  // The config's signing key; nullopt when the key file does not exist (the
  // caller warns: archives are written unsigned). A key file that others can
  // read, or that is not a minisign secret key, is an error (kInvalidArgument).
  static std::optional<ArchiveSigner> Load(const Config& config);
  // Reads the file at `path`, signs it as `what` and writes path.minisig
  // (0600, atomically). kCorruption when what.sha256 is set and differs.
  void SignFile(const std::string& path, const SignedThing& what) const;
  // The same for a file this process has just written, whose hashes were
  // taken on the way (PrehashingSink, HashingSink): not read back.
  // REQUIRES: what.sha256 and `prehash` are of the file's bytes.
  void SignWritten(const std::string& path, const SignedThing& what,
                   const minisign::Prehash& prehash) const;
  std::string public_key() const { return key_.Public().ToString(); }

 private:
  explicit ArchiveSigner(minisign::SecretKey key) : key_(std::move(key)) {}
  minisign::SecretKey key_;
};

// Passes bytes on to `next` and takes their BLAKE2b prehash on the way, for
// SignWritten.
class PrehashingSink : public ByteSink {
 public:
  explicit PrehashingSink(ByteSink* next) : next_(next) {}
  void Write(std::span<const uint8_t> data) override {
    hasher_.Update(data);
    next_->Write(data);
  }
  using ByteSink::Write;
  void Finish() override {
    prehash_ = hasher_.Final();
    next_->Finish();
  }
  // REQUIRES: Finish was called.
  const minisign::Prehash& prehash() const { return prehash_; }

 private:
  ByteSink* next_;
  minisign::Prehasher hasher_;
  minisign::Prehash prehash_{};
};

// The warning for a host that cannot sign.
std::string NoSigningKeyWarning(const Config& config);

enum class SignatureCheck { kVerified, kUnsignedAccepted };

// Checks the signature (`signature`: the signature file's text, nullopt when
// there is none) of bytes [offset, offset + length) of the file at `path`,
// against config.trusted_signers. Throws Error(kCorruption) naming what.label
// and the expected signers when it is missing (unless config.allow_unsigned;
// then a Notice through `progress` says it was accepted unsigned), malformed,
// made by an untrusted key, invalid, or made for another archive or set.
SignatureCheck CheckSignature(const Config& config, const SignedThing& what,
                              const std::optional<std::string>& signature, const std::string& path,
                              Progress& progress, uint64_t offset = 0,
                              uint64_t length = UINT64_MAX);

// The same for the signature kept beside the file (path.minisig).
SignatureCheck CheckSignatureBeside(const Config& config, const SignedThing& what,
                                    const std::string& path, Progress& progress);

// The signature text beside `path`, nullopt when there is none; a file larger
// than kMaxSignatureSize is read as a (malformed) signature of that size cut.
std::optional<std::string> ReadSignatureBeside(const std::string& path);

// The signature in the kMaxSignatureSize bytes at `offset` of the file at
// `path`, trailing NULs cut: a bundle's signature member's data block, or the
// block after a single archive (upload = "each").
std::string ReadSignatureBlock(const std::string& path, uint64_t offset);

}  // namespace gb
