// The C++ baseline for bench/grpc: grpc::Health/Check (always SERVING for "")
// and folio.bench.v1.Bench/Stream on the async completion-queue API, one CQ and
// one polling thread per `threads`, so it is compared with folio-server on equal
// terms (no sync thread pool).
//
//   bench_grpc_cpp_server PORT [THREADS]      (PORT 0: the OS picks one)
//
// Prints {"msg":"listening","address":"127.0.0.1:PORT",...} on stderr when
// ready, with the port it bound; exits on SIGTERM/SIGINT.
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "bench.grpc.pb.h"
#include "health.grpc.pb.h"

namespace {

using grpc::health::v1::Health;
using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

// A call's state; its address is the completion-queue tag. Each object handles
// one call and then re-arms a fresh one for the next.
class Call {
 public:
  virtual ~Call() = default;
  virtual void Proceed(bool ok) = 0;
};

class CheckCall final : public Call {
 public:
  CheckCall(Health::AsyncService* svc, grpc::ServerCompletionQueue* cq) : svc_(svc), cq_(cq), responder_(&ctx_) {
    svc_->RequestCheck(&ctx_, &req_, &responder_, cq_, cq_, this);
  }
  void Proceed(bool ok) override {
    if (done_ || !ok) {  // finished, or a pending request cancelled by shutdown
      delete this;
      return;
    }
    new CheckCall(svc_, cq_);
    done_ = true;
    if (req_.service().empty()) {
      HealthCheckResponse resp;
      resp.set_status(HealthCheckResponse::SERVING);
      responder_.Finish(resp, grpc::Status::OK, this);
    } else {
      responder_.FinishWithError(grpc::Status(grpc::StatusCode::NOT_FOUND, "unknown service"), this);
    }
  }

 private:
  Health::AsyncService* svc_;
  grpc::ServerCompletionQueue* cq_;
  grpc::ServerContext ctx_;
  HealthCheckRequest req_;
  grpc::ServerAsyncResponseWriter<HealthCheckResponse> responder_;
  bool done_ = false;
};

class StreamCall final : public Call {
 public:
  StreamCall(folio::bench::v1::Bench::AsyncService* svc, grpc::ServerCompletionQueue* cq)
      : svc_(svc), cq_(cq), writer_(&ctx_) {
    svc_->RequestStream(&ctx_, &req_, &writer_, cq_, cq_, this);
  }
  void Proceed(bool ok) override {
    switch (state_) {
      case State::kRequested:
        if (!ok) {
          delete this;
          return;
        }
        new StreamCall(svc_, cq_);
        left_ = req_.total_bytes();
        if (req_.chunk_bytes() == 0) {
          state_ = State::kFinishing;
          writer_.Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "chunk_bytes must be > 0"), this);
          return;
        }
        chunk_.mutable_data()->assign(req_.chunk_bytes(), 'x');
        state_ = State::kWriting;
        WriteNext();
        return;
      case State::kWriting:
        if (!ok) {  // the client went away
          state_ = State::kFinishing;
          writer_.Finish(grpc::Status::CANCELLED, this);
          return;
        }
        WriteNext();
        return;
      case State::kFinishing:
        delete this;
        return;
    }
  }

 private:
  enum class State { kRequested, kWriting, kFinishing };
  void WriteNext() {
    if (left_ == 0) {
      state_ = State::kFinishing;
      writer_.Finish(grpc::Status::OK, this);
      return;
    }
    if (left_ < chunk_.data().size()) chunk_.mutable_data()->resize(left_);
    left_ -= chunk_.data().size();
    writer_.Write(chunk_, this);  // one write in flight at a time: flow control paces us
  }
  folio::bench::v1::Bench::AsyncService* svc_;
  grpc::ServerCompletionQueue* cq_;
  grpc::ServerContext ctx_;
  folio::bench::v1::StreamRequest req_;
  grpc::ServerAsyncWriter<folio::bench::v1::Chunk> writer_;
  folio::bench::v1::Chunk chunk_;
  uint64_t left_ = 0;
  State state_ = State::kRequested;
};

std::atomic<bool> g_stop{false};
void OnSignal(int) { g_stop = true; }

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s PORT [THREADS]\n", argv[0]);
    return 2;
  }
  std::string addr = std::string("127.0.0.1:") + argv[1];
  int threads = argc > 2 ? std::atoi(argv[2]) : 1;
  if (threads < 1) threads = 1;

  Health::AsyncService health;
  folio::bench::v1::Bench::AsyncService bench;
  grpc::ServerBuilder builder;
  int bound = 0;
  builder.AddListeningPort(addr, grpc::InsecureServerCredentials(), &bound);
  builder.RegisterService(&health);
  builder.RegisterService(&bench);
  std::vector<std::unique_ptr<grpc::ServerCompletionQueue>> cqs;
  for (int i = 0; i < threads; i++) cqs.push_back(builder.AddCompletionQueue());
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || bound == 0) {
    std::fprintf(stderr, "{\"level\":\"error\",\"msg\":\"cannot listen\",\"listen\":\"%s\"}\n", addr.c_str());
    return 1;
  }
  std::vector<std::thread> pollers;
  for (auto& cq : cqs) {
    grpc::ServerCompletionQueue* q = cq.get();
    // Several outstanding requests per CQ so a burst of new calls never waits
    // for a re-arm.
    for (int i = 0; i < 64; i++) {
      new CheckCall(&health, q);
    }
    new StreamCall(&bench, q);
    pollers.emplace_back([q] {
      void* tag;
      bool ok;
      while (q->Next(&tag, &ok)) static_cast<Call*>(tag)->Proceed(ok);
    });
  }
  std::signal(SIGTERM, OnSignal);
  std::signal(SIGINT, OnSignal);
  std::fprintf(stderr, "{\"msg\":\"listening\",\"listen\":\"%s\",\"address\":\"127.0.0.1:%d\",\"threads\":%d}\n",
               addr.c_str(), bound, threads);
  while (!g_stop) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
  for (auto& cq : cqs) cq->Shutdown();
  for (auto& t : pollers) t.join();
  return 0;
}
