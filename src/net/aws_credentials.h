// AWS credentials and region, found the way the AWS CLI finds them.
//
// Credentials: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN
// from the environment, unless a profile is named explicitly (as `aws
// --profile` does); then the profile's aws_access_key_id /
// aws_secret_access_key / aws_session_token in the shared credentials file
// (AWS_SHARED_CREDENTIALS_FILE, default ~/.aws/credentials, sections
// "[NAME]"), then in the config file (AWS_CONFIG_FILE, default ~/.aws/config,
// sections "[profile NAME]" and "[default]").
// Profile: the explicit argument, else AWS_PROFILE, else "default".
// Region: AWS_REGION, else AWS_DEFAULT_REGION, else the profile's "region" in
// the config file.
//
// Nothing here ever puts a secret key or session token into a message.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace gb {

struct AwsCredentials {
  std::string access_key_id;
  std::string secret_access_key;  // secret: never log
  std::string session_token;      // secret: never log; empty without one
};

struct AwsSettings {
  AwsCredentials credentials;
  std::string region;   // empty when nothing configures one
  std::string profile;  // the profile consulted
  // Where the credentials came from, e.g. "environment" or
  // "/home/u/.aws/credentials [backup]". Safe to show.
  std::string source;
};

// Reads an environment variable; nullopt when unset. A seam for tests.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;
EnvLookup ProcessEnv();

// Finds credentials and region as described above. `profile` empty means "not
// given". Throws kPermanent with one line saying where it looked when no
// complete credentials are found or a named profile does not exist; kIOError
// when a file exists but cannot be read.
AwsSettings LoadAwsSettings(std::string_view profile = {}, const EnvLookup& env = ProcessEnv());

}  // namespace gb
