#include "engine/encryption.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <string>

#include "core/error.h"
#include "engine/engine_test_util.h"

namespace gb {
namespace {

class PassphraseFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("gb-encryption-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    config_.passphrase_file = (dir_ / "pw.txt").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::filesystem::path dir_;
  Config config_;
};

// The passphrase opens every archive: like the identity file, it is refused
// when group or others can read it, with the chmod that fixes it.
TEST_F(PassphraseFileTest, ReadableByOthersIsRefusedWithTheChmod) {
  test::WriteText(config_.passphrase_file, "correct horse battery staple\n", 0644);
  BufferSink out;
  try {
    NewArchiveEncryptor(config_, out);
    ADD_FAILURE() << "a passphrase file readable by others was used";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Code::kInvalidArgument) << e.what();
    EXPECT_NE(std::string(e.what()).find("chmod 600 '" + config_.passphrase_file + "'"),
              std::string::npos)
        << e.what();
  }
  SpanSource in(std::span<const uint8_t>{});
  EXPECT_THROW(NewArchiveDecryptor(config_, in), Error);
}

TEST_F(PassphraseFileTest, PrivateFileEncryptsAndDecrypts) {
  test::WriteText(config_.passphrase_file, "correct horse battery staple\n", 0600);
  BufferSink sealed;
  {
    auto enc = NewArchiveEncryptor(config_, sealed);
    enc->Write(std::string_view("secret data").data(), 11);
    enc->Finish();
  }
  SpanSource in(sealed.bytes);
  auto dec = NewArchiveDecryptor(config_, in);
  Bytes plain(64);
  plain.resize(dec->ReadFull(plain));
  EXPECT_EQ(std::string(plain.begin(), plain.end()), "secret data");
}

}  // namespace
}  // namespace gb
