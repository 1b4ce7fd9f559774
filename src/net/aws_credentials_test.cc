#include "net/aws_credentials.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <map>

#include "core/error.h"
#include "core/file.h"

namespace gb {
namespace {

namespace fs = std::filesystem;

class AwsCredentialsTest : public testing::Test {
 protected:
  void SetUp() override {
    home_ =
        fs::temp_directory_path() / ("gb-net-creds-" + std::to_string(getpid()) + "-" +
                                     testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(home_);
    MakeDirs((home_ / ".aws").string());
    vars_["HOME"] = home_.string();
  }
  void TearDown() override { fs::remove_all(home_); }

  void Write(const std::string& rel, const std::string& text) {
    WriteFileAtomic((home_ / rel).string(), text);
  }
  EnvLookup Env() {
    return [this](const std::string& name) -> std::optional<std::string> {
      auto it = vars_.find(name);
      if (it == vars_.end()) return std::nullopt;
      return it->second;
    };
  }
  AwsSettings Load(std::string_view profile = {}) { return LoadAwsSettings(profile, Env()); }
  std::string ErrorOf(std::string_view profile = {}) {
    try {
      Load(profile);
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), Code::kPermanent);
      return e.what();
    }
    ADD_FAILURE() << "no error";
    return {};
  }

  fs::path home_;
  std::map<std::string, std::string> vars_;
};

constexpr char kCredentials[] =
    "# comment\n"
    "[default]\n"
    "aws_access_key_id = AKIDDEFAULT\n"
    "aws_secret_access_key = secret-default\n"
    "\n"
    "; another comment\r\n"
    "[backup]\r\n"
    "aws_access_key_id=AKIDBACKUP\r\n"
    "aws_secret_access_key=secret-backup\r\n"
    "aws_session_token = token-backup\r\n";

constexpr char kConfig[] =
    "[default]\n"
    "region = eu-west-1\n"
    "s3 =\n"
    "  region = nested-is-ignored\n"
    "[profile backup]\n"
    "region = eu-central-1\n"
    "[profile configonly]\n"
    "region = ap-south-1\n"
    "aws_access_key_id = AKIDCONFIG\n"
    "aws_secret_access_key = secret-config\n"
    "[profile assumed]\n"
    "role_arn = arn:aws:iam::123456789012:role/x\n"
    "source_profile = default\n";

TEST_F(AwsCredentialsTest, EnvironmentKeysComeFirst) {
  Write(".aws/credentials", kCredentials);
  Write(".aws/config", kConfig);
  vars_["AWS_ACCESS_KEY_ID"] = "AKIDENV";
  vars_["AWS_SECRET_ACCESS_KEY"] = "secret-env";
  vars_["AWS_SESSION_TOKEN"] = "token-env";
  vars_["AWS_PROFILE"] = "backup";  // as in the CLI, env keys still win over AWS_PROFILE
  AwsSettings s = Load();
  EXPECT_EQ(s.credentials.access_key_id, "AKIDENV");
  EXPECT_EQ(s.credentials.secret_access_key, "secret-env");
  EXPECT_EQ(s.credentials.session_token, "token-env");
  EXPECT_EQ(s.source, "environment");
  EXPECT_EQ(s.region, "eu-central-1");  // the backup profile's region
  vars_["AWS_DEFAULT_REGION"] = "us-west-1";
  EXPECT_EQ(Load().region, "us-west-1");
  vars_["AWS_REGION"] = "us-west-2";
  EXPECT_EQ(Load().region, "us-west-2");
}

TEST_F(AwsCredentialsTest, ExplicitProfileOverridesEnvironmentKeys) {
  Write(".aws/credentials", kCredentials);
  Write(".aws/config", kConfig);
  vars_["AWS_ACCESS_KEY_ID"] = "AKIDENV";
  vars_["AWS_SECRET_ACCESS_KEY"] = "secret-env";
  AwsSettings s = Load("backup");
  EXPECT_EQ(s.credentials.access_key_id, "AKIDBACKUP");
  EXPECT_EQ(s.credentials.secret_access_key, "secret-backup");
  EXPECT_EQ(s.credentials.session_token, "token-backup");
  EXPECT_EQ(s.region, "eu-central-1");
  EXPECT_EQ(s.profile, "backup");
  EXPECT_EQ(s.source, (home_ / ".aws/credentials").string() + " [backup]");
}

TEST_F(AwsCredentialsTest, ProfileFromAwsProfileElseDefault) {
  Write(".aws/credentials", kCredentials);
  Write(".aws/config", kConfig);
  AwsSettings d = Load();
  EXPECT_EQ(d.profile, "default");
  EXPECT_EQ(d.credentials.access_key_id, "AKIDDEFAULT");
  EXPECT_EQ(d.credentials.session_token, "");
  EXPECT_EQ(d.region, "eu-west-1");
  vars_["AWS_PROFILE"] = "backup";
  EXPECT_EQ(Load().credentials.access_key_id, "AKIDBACKUP");
  // Keys may also live in the config file.
  vars_["AWS_PROFILE"] = "configonly";
  AwsSettings c = Load();
  EXPECT_EQ(c.credentials.access_key_id, "AKIDCONFIG");
  EXPECT_EQ(c.region, "ap-south-1");
}

TEST_F(AwsCredentialsTest, HonoursFileLocationVariables) {
  Write("elsewhere-creds", "[default]\naws_access_key_id=AKIDELSE\naws_secret_access_key=s\n");
  Write("elsewhere-config", "[default]\nregion=sa-east-1\n");
  Write(".aws/credentials", kCredentials);
  vars_["AWS_SHARED_CREDENTIALS_FILE"] = "~/elsewhere-creds";
  vars_["AWS_CONFIG_FILE"] = (home_ / "elsewhere-config").string();
  AwsSettings s = Load();
  EXPECT_EQ(s.credentials.access_key_id, "AKIDELSE");
  EXPECT_EQ(s.region, "sa-east-1");
}

TEST_F(AwsCredentialsTest, MissingCredentialsSayWhereItLooked) {
  std::string msg = ErrorOf();
  EXPECT_NE(msg.find("AWS_ACCESS_KEY_ID"), std::string::npos) << msg;
  EXPECT_NE(msg.find((home_ / ".aws/credentials").string() + " (missing)"), std::string::npos)
      << msg;
  EXPECT_NE(msg.find((home_ / ".aws/config").string()), std::string::npos) << msg;
  EXPECT_EQ(msg.find('\n'), std::string::npos);

  Write(".aws/credentials", kCredentials);
  msg = ErrorOf("nosuch");
  EXPECT_NE(msg.find("profile \"nosuch\" not found"), std::string::npos) << msg;
  vars_["AWS_PROFILE"] = "nosuch";
  EXPECT_NE(ErrorOf().find("profile \"nosuch\" not found"), std::string::npos);
}

TEST_F(AwsCredentialsTest, PartialOrUnusableCredentialsNeverShowTheSecret) {
  vars_["AWS_SECRET_ACCESS_KEY"] = "very-secret-value";
  std::string msg = ErrorOf();
  EXPECT_NE(msg.find("AWS_ACCESS_KEY_ID is not"), std::string::npos) << msg;
  EXPECT_EQ(msg.find("very-secret-value"), std::string::npos);
  vars_.erase("AWS_SECRET_ACCESS_KEY");

  Write(".aws/credentials", "[half]\naws_secret_access_key = very-secret-value\n");
  msg = ErrorOf("half");
  EXPECT_NE(msg.find("no aws_access_key_id"), std::string::npos) << msg;
  EXPECT_EQ(msg.find("very-secret-value"), std::string::npos);

  Write(".aws/config", kConfig);
  msg = ErrorOf("assumed");
  EXPECT_NE(msg.find("role_arn"), std::string::npos) << msg;
  EXPECT_NE(msg.find("export-credentials --profile assumed"), std::string::npos) << msg;
}

TEST(AwsProcessEnv, ReadsTheEnvironment) {
  setenv("GB_NET_TEST_VARIABLE", "v1", 1);
  EXPECT_EQ(ProcessEnv()("GB_NET_TEST_VARIABLE"), "v1");
  unsetenv("GB_NET_TEST_VARIABLE");
  EXPECT_FALSE(ProcessEnv()("GB_NET_TEST_VARIABLE"));
}

}  // namespace
}  // namespace gb
