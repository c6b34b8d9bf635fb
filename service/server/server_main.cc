// attributiond: the attribution gRPC server on an embedded RocksDB.
#include <signal.h>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "service/api/attribution_service_impl.h"
#include "service/core/clock.h"
#include "storage/rocksdb_event_store.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:50051",
          "Address to listen on, host:port. Port 0 picks a free port (the "
          "chosen one is printed).");
ABSL_FLAG(
    std::string, data_dir, "attribution-data",
    "RocksDB folder, created if missing. Relative to the working folder.");
ABSL_FLAG(std::string, durability, "process",
          "'process': a batch is acknowledged once in the write-ahead log "
          "(survives a process crash). 'machine': the log is fsynced per "
          "batch (survives a machine crash).");
ABSL_FLAG(int, max_batch_events, 10000,
          "Most events in one RecordEvents call or IngestEvents message.");
ABSL_FLAG(int, max_message_bytes, 16 << 20,
          "Largest request message accepted, in bytes.");
ABSL_FLAG(int, query_threads, 2,
          "Threads one attribution query scans customers and solves Markov "
          "removals with.");
ABSL_FLAG(std::string, backup_root, "",
          "Folder CreateBackup writes backups into (one subfolder each). "
          "Empty: backups are disabled.");
ABSL_FLAG(std::string, restore_from, "",
          "Before opening, copy this backup into --data_dir, which must be "
          "missing or empty.");
ABSL_FLAG(int, shutdown_grace_seconds, 10,
          "On SIGTERM, how long in-flight calls may take before they are "
          "cancelled.");

namespace attribution {
namespace {

int Run() {
  // Signals are taken by sigwait below; block them before any thread starts
  // so that every thread inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  StorageOptions storage;
  storage.path = absl::GetFlag(FLAGS_data_dir);
  const std::string durability = absl::GetFlag(FLAGS_durability);
  if (durability == "process") {
    storage.durability = Durability::kProcessCrash;
  } else if (durability == "machine") {
    storage.durability = Durability::kMachineCrash;
  } else {
    std::cerr << "attributiond: --durability must be 'process' or 'machine'\n";
    return 2;
  }
  const int max_batch = absl::GetFlag(FLAGS_max_batch_events);
  const int max_bytes = absl::GetFlag(FLAGS_max_message_bytes);
  const int query_threads = absl::GetFlag(FLAGS_query_threads);
  if (query_threads < 1 || query_threads > 64) {
    std::cerr << "attributiond: --query_threads must be 1 to 64\n";
    return 2;
  }
  if (max_batch < 1 || max_bytes < 1024) {
    std::cerr << "attributiond: --max_batch_events must be >= 1 and "
                 "--max_message_bytes >= 1024\n";
    return 2;
  }

  if (const std::string from = absl::GetFlag(FLAGS_restore_from);
      !from.empty()) {
    if (absl::Status s = RestoreBackup(from, storage.path); !s.ok()) {
      std::cerr << "attributiond: cannot restore: " << s << "\n";
      return 2;
    }
    std::cerr << "attributiond: restored " << from << " into " << storage.path
              << "\n";
  }

  RealClock clock;
  const absl::Time open_start = clock.Now();
  absl::StatusOr<std::unique_ptr<RocksDbEventStore>> store =
      RocksDbEventStore::Open(storage);
  if (!store.ok()) {
    std::cerr << "attributiond: cannot open " << storage.path << ": "
              << store.status() << "\n";
    return 1;
  }
  std::cerr << "attributiond: opened " << storage.path
            << " and rebuilt the journey index in "
            << absl::FormatDuration(clock.Now() - open_start) << "\n";

  api::ServiceOptions service_options;
  service_options.max_batch_events = static_cast<size_t>(max_batch);
  service_options.query_threads = query_threads;
  if (const std::string root = absl::GetFlag(FLAGS_backup_root);
      !root.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(root, ec);
    service_options.backup_root = std::filesystem::absolute(root, ec).string();
  }
  api::AttributionServiceImpl service(**store, clock, service_options);
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(absl::GetFlag(FLAGS_listen),
                           grpc::InsecureServerCredentials(), &port);
  builder.SetMaxReceiveMessageSize(max_bytes);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    std::cerr << "attributiond: cannot listen on "
              << absl::GetFlag(FLAGS_listen) << "\n";
    return 1;
  }
  const std::string listen = absl::GetFlag(FLAGS_listen);
  const std::string host = listen.substr(0, listen.rfind(':'));
  // Tests and scripts read this line to learn the port.
  std::cout << "attributiond listening on " << host << ":" << port << std::endl;
  std::cerr << "attributiond: data " << storage.path << ", durability "
            << durability << ", max batch " << max_batch << " events, max "
            << "message " << max_bytes << " bytes\n";

  int sig = 0;
  sigwait(&signals, &sig);
  std::cerr << "attributiond: signal " << sig << ", draining calls\n";
  server->GetHealthCheckService()->SetServingStatus(false);
  server->Shutdown(
      std::chrono::system_clock::now() +
      std::chrono::seconds(absl::GetFlag(FLAGS_shutdown_grace_seconds)));
  server->Wait();
  if (absl::Status s = (*store)->Flush(); !s.ok()) {
    std::cerr << "attributiond: flush at shutdown failed: " << s << "\n";
    return 1;
  }
  std::cerr << "attributiond: stopped cleanly\n";
  return 0;
}

}  // namespace
}  // namespace attribution

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "attributiond [--listen=HOST:PORT] [--data_dir=DIR] "
      "[--durability=process|machine]");
  absl::ParseCommandLine(argc, argv);
  return attribution::Run();
}
