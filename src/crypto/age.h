// age v1 file encryption (https://age-encryption.org/v1): the public face of
// the crypto layer.
//
//   auto id = age::X25519Identity::Generate();
//   age::Encryptor enc(id.Recipient(), sink);       // sink receives the age file
//   enc.Write(data); enc.Finish();
//
//   age::Decryptor dec(source, age::ReadIdentityFile(path));
//   while (size_t n = dec.Read(buf)) ...;           // throws age::DecryptError
//
// Supported recipients: X25519 ("age1...") and scrypt passphrases. Files may
// be binary or ASCII-armored. Secrets are never logged or put in messages.
#pragma once

#include "crypto/decrypt_error.h"
#include "crypto/decryptor.h"
#include "crypto/encryptor.h"
#include "crypto/identity_file.h"
#include "crypto/recipient.h"
#include "crypto/scrypt.h"
#include "crypto/x25519.h"
