#include "tests/support/server_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"

namespace attribution::testing {
namespace {

std::vector<char*> Argv(std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  return argv;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

TempDir::TempDir() {
  const char* base = getenv("TMPDIR");
  std::string tmpl = absl::StrCat(base != nullptr && *base ? base : "/tmp",
                                  "/attrtest.XXXXXX");
  if (mkdtemp(tmpl.data()) == nullptr) abort();
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

absl::StatusOr<std::unique_ptr<ServerProcess>> ServerProcess::Start(
    const std::string& data_dir, std::vector<std::string> extra_flags,
    const std::string& stderr_path) {
  int out[2];
  if (pipe(out) != 0) return absl::InternalError("pipe");
  // The admin endpoint on a port the kernel picks, so that servers of
  // parallel tests never meet on its default (extra flags may override).
  std::vector<std::string> args = {ATTRIBUTIOND_PATH, "--listen=127.0.0.1:0",
                                   absl::StrCat("--data_dir=", data_dir),
                                   "--admin_listen=127.0.0.1:0"};
  args.insert(args.end(), extra_flags.begin(), extra_flags.end());
  // Tests not about authentication run it off, as local development does.
  bool auth_given = false;
  for (const std::string& f : extra_flags) {
    auth_given |=
        f.rfind("--auth", 0) == 0 || f.rfind("--api_keys_file", 0) == 0;
  }
  if (!auth_given) args.push_back("--auth=off");
  const pid_t pid = fork();
  if (pid < 0) return absl::InternalError("fork");
  if (pid == 0) {
    dup2(out[1], STDOUT_FILENO);
    if (!stderr_path.empty()) {
      const int e =
          open(stderr_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
      if (e >= 0) dup2(e, STDERR_FILENO);
    }
    close(out[0]);
    close(out[1]);
    std::vector<char*> argv = Argv(args);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(out[1]);
  // Read the "listening on" line, for up to 60 s (the index rebuild of a
  // large store takes a while).
  std::string text;
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  while (absl::Now() < deadline && !absl::StrContains(text, "\n")) {
    pollfd p{out[0], POLLIN, 0};
    if (poll(&p, 1, 200) <= 0) continue;
    char buf[256];
    const ssize_t n = read(out[0], buf, sizeof(buf));
    if (n <= 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  close(out[0]);
  absl::string_view line = text;
  if (!absl::ConsumePrefix(&line, "attributiond listening on ")) {
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    return absl::UnavailableError(
        absl::StrCat("server did not start; stdout: ", text));
  }
  return std::unique_ptr<ServerProcess>(new ServerProcess(
      pid, std::string(absl::StripTrailingAsciiWhitespace(line))));
}

ServerProcess::~ServerProcess() {
  if (pid_ > 0) SignalAndWait(SIGKILL);
}

std::unique_ptr<client::AttributionClient> ServerProcess::NewClient() const {
  return client::AttributionClient::Connect(address_);
}

int ServerProcess::SignalAndWait(int signal) {
  if (pid_ <= 0) return -1;
  kill(pid_, signal);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  return status;
}

int64_t ServerProcess::RssBytes() const { return StatusBytes("VmRSS:"); }

int64_t ServerProcess::PeakRssBytes() const { return StatusBytes("VmHWM:"); }

int64_t ServerProcess::StatusBytes(absl::string_view field) const {
  std::ifstream in(absl::StrCat("/proc/", pid_, "/status"));
  std::string line;
  while (std::getline(in, line)) {
    absl::string_view v = line;
    if (absl::ConsumePrefix(&v, field)) {
      int64_t kb = 0;
      v = absl::StripAsciiWhitespace(v);
      absl::ConsumeSuffix(&v, " kB");
      if (absl::SimpleAtoi(v, &kb)) return kb * 1024;
    }
  }
  return 0;
}

CommandResult RunCommand(const std::vector<std::string>& argv_in) {
  TempDir dir;
  const std::string out_path = dir.path() + "/out";
  const std::string err_path = dir.path() + "/err";
  std::vector<std::string> args = argv_in;
  const pid_t pid = fork();
  if (pid == 0) {
    const int o = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    const int e = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(o, STDOUT_FILENO);
    dup2(e, STDERR_FILENO);
    const int devnull = open("/dev/null", O_RDONLY);
    dup2(devnull, STDIN_FILENO);
    std::vector<char*> argv = Argv(args);
    execv(argv[0], argv.data());
    _exit(127);
  }
  CommandResult result;
  int status = 0;
  waitpid(pid, &status, 0);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  result.out = ReadFile(out_path);
  result.err = ReadFile(err_path);
  return result;
}

absl::StatusOr<std::pair<int, std::string>> HttpGet(int port,
                                                    const std::string& path) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return absl::InternalError("socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return absl::UnavailableError(absl::StrCat("connect to port ", port));
  }
  const std::string request =
      absl::StrCat("GET ", path,
                   " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
  if (write(fd, request.data(), request.size()) !=
      static_cast<ssize_t>(request.size())) {
    close(fd);
    return absl::UnavailableError("write");
  }
  std::string response;
  char buf[65536];
  for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0;) response.append(buf, n);
  close(fd);
  // "HTTP/1.1 200 OK\r\n...\r\n\r\nbody"
  const size_t space = response.find(' ');
  const size_t body = response.find("\r\n\r\n");
  if (space == std::string::npos || body == std::string::npos) {
    return absl::DataLossError(absl::StrCat("not HTTP: ", response));
  }
  return std::make_pair(std::atoi(response.c_str() + space + 1),
                        response.substr(body + 4));
}

int AdminPortFromLog(const std::string& log_path) {
  const std::string kMark =
      "admin endpoint (metrics, healthz, readyz) on 127.0.0.1:";
  for (int i = 0; i < 500; ++i) {
    std::ifstream in(log_path);
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string text = ss.str();
    if (const size_t at = text.find(kMark); at != std::string::npos) {
      return std::atoi(text.c_str() + at + kMark.size());
    }
    usleep(10000);
  }
  return 0;
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

void ServerAndCliTest::SetUp() {
  auto server = ServerProcess::Start(dir_.path() + "/db");
  ASSERT_TRUE(server.ok()) << server.status();
  server_ = std::move(*server);
  client_ = client::AttributionClient::Connect(server_->address());
}

CommandResult ServerAndCliTest::Ctl(const std::vector<std::string>& args,
                                    const std::string& workspace) const {
  std::vector<std::string> argv = {ATTRIBUTIONCTL_PATH,
                                   "--server=" + server_->address(),
                                   "--workspace=" + workspace};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunCommand(argv);
}

}  // namespace attribution::testing
