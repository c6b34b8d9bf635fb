// The real attributiond binary, started on 127.0.0.1 with a port the kernel
// picks and a RocksDB folder of the test's.
#ifndef ATTRIBUTION_TESTS_SUPPORT_SERVER_PROCESS_H_
#define ATTRIBUTION_TESTS_SUPPORT_SERVER_PROCESS_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "clients/cpp/attribution_client.h"
#include "gtest/gtest.h"

namespace attribution::testing {

// A fresh empty folder under $TMPDIR, removed with the object.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

class ServerProcess {
 public:
  // Starts the server on `data_dir` and waits until it listens. Adds
  // --auth=off unless `extra_flags` say something about authentication.
  // With `stderr_path`, the server's stderr goes to that file.
  static absl::StatusOr<std::unique_ptr<ServerProcess>> Start(
      const std::string& data_dir, std::vector<std::string> extra_flags = {},
      const std::string& stderr_path = "");
  ~ServerProcess();  // SIGKILLs the server if still running.

  const std::string& address() const { return address_; }
  pid_t pid() const { return pid_; }
  std::unique_ptr<client::AttributionClient> NewClient() const;

  // Sends `signal` and waits for the process. Returns its wait status.
  int SignalAndWait(int signal);
  // Resident set size of the server in bytes (from /proc), 0 if unknown.
  int64_t RssBytes() const;
  // Its peak since the start (VmHWM), 0 if unknown.
  int64_t PeakRssBytes() const;

 private:
  ServerProcess(pid_t pid, std::string address)
      : pid_(pid), address_(std::move(address)) {}
  // A "Field:" of /proc/PID/status given in kB, in bytes; 0 if unknown.
  int64_t StatusBytes(absl::string_view field) const;
  pid_t pid_;
  std::string address_;
};

// Runs a command, returns its exit code and stdout/stderr.
struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};
CommandResult RunCommand(const std::vector<std::string>& argv);

// GET http://127.0.0.1:PORT/PATH: (status code, body).
absl::StatusOr<std::pair<int, std::string>> HttpGet(int port,
                                                    const std::string& path);

// The admin port a server wrote in its stderr log at `log_path` ("admin
// endpoint ... on 127.0.0.1:PORT"), waiting up to 5 s; 0 if none.
int AdminPortFromLog(const std::string& log_path);

// The header row of an event file (README "Event files").
inline constexpr char kEventFileHeader[] =
    "event_id,customer_id,occurred_at,type,channel,campaign,interaction,stage,"
    "sentiment,conversion,revenue,currency\n";

// Writes `text` to `path`, replacing it.
void WriteFile(const std::string& path, const std::string& text);

// A test against a fresh server on a fresh folder, with a client and the
// CLI: the fixture of the integration tests that drive attributionctl.
class ServerAndCliTest : public ::testing::Test {
 protected:
  void SetUp() override;

  // attributionctl against the server in `workspace` (default acme), with
  // `args` after the connection flags.
  CommandResult Ctl(const std::vector<std::string>& args,
                    const std::string& workspace = "acme") const;

  TempDir dir_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<client::AttributionClient> client_;
};

}  // namespace attribution::testing

#endif  // ATTRIBUTION_TESTS_SUPPORT_SERVER_PROCESS_H_
