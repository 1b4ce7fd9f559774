#include "engine/archive_signature.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <sstream>
#include <vector>

#include "core/error.h"
#include "core/file.h"
#include "core/hex.h"
#include "core/sha256.h"

namespace gb {
namespace {

struct FileHashes {
  minisign::Prehash prehash;
  std::string sha256;  // empty unless asked for
};

FileHashes HashFile(const std::string& path, uint64_t offset, uint64_t length, bool sha256) {
  FileSource src(path, offset, length);
  minisign::Prehasher pre;
  Sha256 sha;
  std::vector<uint8_t> buf(1 << 20);
  while (size_t n = src.Read(buf)) {
    pre.Update({buf.data(), n});
    if (sha256) sha.Update(buf.data(), n);
  }
  return {pre.Final(), sha256 ? Hex(sha.Final()) : ""};
}

std::string TrustedComment(const SignedThing& what, const std::string& sha256) {
  return "glacier-backup " + what.subject + " set=" + std::to_string(what.set_id) +
         " sha256=" + sha256;
}

std::string ExpectedSigners(const Config& config) {
  std::string out;
  for (const std::string& s : config.trusted_signers)
    out += (out.empty() ? "" : ", ") + minisign::PublicKey::Parse(s).Describe();
  return out;
}

}  // namespace

std::string SignaturePath(const std::string& file_path) { return file_path + kSignatureSuffix; }

SignedThing SignedThing::Archive(const std::string& archive_name, int64_t set_id,
                                 const std::string& sha256) {
  std::string id = archive_name;
  if (size_t dot = id.find('.'); dot != std::string::npos) id.resize(dot);
  return {"archive " + archive_name, "backup=" + id, set_id, sha256};
}

SignedThing SignedThing::CatalogCopy(int64_t set_id) {
  return {"catalog copy of set " + std::to_string(set_id), "catalog", set_id, ""};
}

std::optional<ArchiveSigner> ArchiveSigner::Load(const Config& config) {
  if (config.signing_key_file.empty() || !PathExists(config.signing_key_file)) return std::nullopt;
  return ArchiveSigner(minisign::ReadSecretKeyFile(config.signing_key_file));
}

void ArchiveSigner::SignFile(const std::string& path, const SignedThing& what) const {
  FileHashes h = HashFile(path, 0, UINT64_MAX, true);
  if (!what.sha256.empty() && h.sha256 != what.sha256)
    throw Error(Code::kCorruption, what.label + " (" + path +
                                       ") does not match the SHA-256 the catalog recorded when "
                                       "it was written; not signing it (damaged or altered)");
  SignWritten(path, {what.label, what.subject, what.set_id, h.sha256}, h.prehash);
}

void ArchiveSigner::SignWritten(const std::string& path, const SignedThing& what,
                                const minisign::Prehash& prehash) const {
  std::string text = minisign::Sign(key_, prehash, TrustedComment(what, what.sha256));
  if (text.size() > kMaxSignatureSize)
    throw Error(Code::kInternal, "signature of " + what.label + " is too long");
  WriteFileAtomic(SignaturePath(path), text, 0600);
}

std::string NoSigningKeyWarning(const Config& config) {
  return "no signing key " + config.signing_key_file +
         ": archives are written unsigned and restores will need --allow-unsigned; run "
         "`glacier-backup init` to create one and trust it";
}

std::optional<std::string> ReadSignatureBeside(const std::string& path) {
  Fd fd(::open(SignaturePath(path).c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    if (errno == ENOENT) return std::nullopt;
    ThrowErrno(SignaturePath(path));
  }
  std::string text(kMaxSignatureSize + 1, '\0');
  size_t got = 0;
  while (got < text.size()) {
    ssize_t n = ::read(fd.get(), text.data() + got, text.size() - got);
    if (n < 0) {
      if (errno == EINTR) continue;
      ThrowErrno(SignaturePath(path));
    }
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  text.resize(got);
  return text;
}

std::string ReadSignatureBlock(const std::string& path, uint64_t offset) {
  FileSource src(path, offset, kMaxSignatureSize);
  std::string text(kMaxSignatureSize, '\0');
  size_t got = 0;
  while (got < text.size()) {
    size_t n = src.Read({reinterpret_cast<uint8_t*>(text.data()) + got, text.size() - got});
    if (n == 0) break;
    got += n;
  }
  text.resize(std::min(got, text.find('\0')));
  return text;
}

SignatureCheck CheckSignature(const Config& config, const SignedThing& what,
                              const std::optional<std::string>& signature, const std::string& path,
                              Progress& progress, uint64_t offset, uint64_t length) {
  const std::string expected =
      config.trusted_signers.empty()
          ? "no trusted_signers are configured in " + config.path +
                " (add the backup host's public key \"RW...\" to [encryption] trusted_signers)"
          : "expected a signature by " + ExpectedSigners(config);
  auto refuse = [&](const std::string& why) {
    return Error(Code::kCorruption,
                 what.label + ": " + why + "; " + expected + ". Refusing to use it");
  };
  if (!signature) {
    if (config.allow_unsigned) {
      progress.Notice(what.label,
                      "has no signature (written before glacier-backup signed archives?); "
                      "accepted unsigned because of --allow-unsigned",
                      true);
      return SignatureCheck::kUnsignedAccepted;
    }
    throw refuse(
        "it is not signed (an archive written before glacier-backup signed archives can be "
        "accepted with --allow-unsigned)");
  }
  if (signature->size() > kMaxSignatureSize) throw refuse("its signature is malformed (too long)");
  minisign::Signature sig;
  try {
    sig = minisign::Signature::Parse(*signature);
  } catch (const Error& e) {
    throw refuse(std::string("its signature is unusable: ") + e.what());
  }
  std::optional<minisign::PublicKey> signer;
  for (const std::string& s : config.trusted_signers) {
    minisign::PublicKey k = minisign::PublicKey::Parse(s);
    if (k.key_id == sig.key_id) signer = k;
  }
  if (!signer) {
    minisign::PublicKey unknown;
    unknown.key_id = sig.key_id;
    throw refuse("it is signed by key id " + unknown.KeyIdHex() +
                 ", which is not a trusted signer");
  }
  // The signature covers the bytes (through their prehash) and the trusted
  // comment, which carries the SHA-256 the signer took of the same bytes: it
  // need not be taken again.
  FileHashes h = HashFile(path, offset, length, false);
  if (!sig.Verify(*signer, h.prehash))
    throw refuse("its signature by " + signer->KeyIdHex() +
                 " does not match its bytes (damaged or tampered)");
  // A genuine signature of something else: another archive, another set.
  std::istringstream words(sig.trusted_comment);
  std::string tool, subject, set, sha;
  words >> tool >> subject >> set >> sha;
  const std::string says = " (its signature says \"" + sig.trusted_comment + "\")";
  if (tool != "glacier-backup" || subject != what.subject ||
      set != "set=" + std::to_string(what.set_id))
    throw refuse("the signature is for another archive or set" + says);
  if (!what.sha256.empty() && sha != "sha256=" + what.sha256)
    throw refuse("its SHA-256 is not the one signed" + says);
  return SignatureCheck::kVerified;
}

SignatureCheck CheckSignatureBeside(const Config& config, const SignedThing& what,
                                    const std::string& path, Progress& progress) {
  return CheckSignature(config, what, ReadSignatureBeside(path), path, progress);
}

}  // namespace gb
