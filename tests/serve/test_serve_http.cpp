// `stagegate serve` over HTTP (src/serve/server.cpp), in process on a loopback port with the
// GPT-2 fixture as its stage: the OpenAI API's answers and errors, each status code the
// server promises, access as the decisions say (re-read on reload), filters that hold back
// what they refuse (streams included), a client that cuts its stream, and the request log.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <future>

#include "db/store_test_util.hpp"
#include "serve/serve_fixture.hpp"

namespace sg::testing {
namespace {

using nlohmann::json;

json completion(std::int64_t max_tokens = 12, json extra = json::object()) {
  json body{{"model", "stage1"},
            {"prompt", "hello world"},
            {"max_tokens", max_tokens},
            {"temperature", 0.9},
            {"seed", 5}};
  body.update(extra);
  return body;
}

// The data lines of a server-sent event stream, in order.
std::vector<std::string> sse_data(const std::string& stream) {
  std::vector<std::string> out;
  std::size_t at = 0;
  while ((at = stream.find("data: ", at)) != std::string::npos) {
    const auto end = stream.find("\n\n", at);
    out.push_back(stream.substr(at + 6, end - at - 6));
    at = end;
  }
  return out;
}

std::string stream(ServeFixture& f, const std::string& key, const json& body,
                   std::function<bool(const std::string&)> keep_going = {}) {
  httplib::Request req;
  req.method = "POST";
  req.path = "/v1/completions";
  req.headers = {{"Authorization", "Bearer " + key}, {"Content-Type", "application/json"}};
  req.body = body.dump();
  std::string got;
  req.content_receiver = [&](const char* data, std::size_t n, std::uint64_t, std::uint64_t) {
    got.append(data, n);
    return !keep_going || keep_going(got);
  };
  f.client->send(req);
  return got;
}

TEST(ServeHttp, CompletionsAnswerAsTheOpenAiApiDoes) {
  ServeFixture f;
  f.start();
  const auto r = f.post(f.researcher_key, completion(12, {{"n", 2}, {"logprobs", 3}}));
  ASSERT_EQ(r.status, 200) << r.body.dump();
  EXPECT_EQ(r.body["object"], "text_completion");
  EXPECT_EQ(r.body["model"], "stage1");
  EXPECT_EQ(r.body["id"].get<std::string>().rfind("cmpl-", 0), 0u);
  ASSERT_EQ(r.body["choices"].size(), 2u);
  for (int i = 0; i < 2; ++i) {
    const auto& c = r.body["choices"][i];
    EXPECT_EQ(c["index"], i);
    EXPECT_EQ(c["finish_reason"], "length");
    const auto& lp = c["logprobs"];
    ASSERT_EQ(lp["tokens"].size(), 12u);
    ASSERT_EQ(lp["top_logprobs"].size(), 12u);
    EXPECT_EQ(lp["top_logprobs"][0].size(), 3u);
    std::string joined;
    for (const auto& t : lp["tokens"]) joined += t.get<std::string>();
    EXPECT_EQ(joined, c["text"]);
  }
  EXPECT_NE(r.body["choices"][0]["text"], r.body["choices"][1]["text"]) << "n choices share a seed";
  EXPECT_EQ(r.body["usage"]["completion_tokens"], 24);
  EXPECT_EQ(r.body["usage"]["total_tokens"], r.body["usage"]["prompt_tokens"].get<int>() + 24);
  EXPECT_EQ(r.body["stagegate"]["checkpoint_sha256"], f.g.sha256());
  EXPECT_TRUE(r.body["stagegate"]["decision_id"].is_null()) << "researchers use it unreleased";

  // The same seed gives the same text; echo puts the prompt first.
  const auto again = f.post(f.researcher_key, completion(12, {{"echo", true}}));
  ASSERT_EQ(again.status, 200);
  EXPECT_EQ(again.body["choices"][0]["text"],
            "hello world" + r.body["choices"][0]["text"].get<std::string>());

  // A stop sequence ends the text before it, finish_reason "stop".
  const std::string text = r.body["choices"][0]["text"];
  const std::string stop = text.substr(text.size() / 2, 3);
  const auto stopped = f.post(f.researcher_key, completion(12, {{"stop", stop}}));
  ASSERT_EQ(stopped.status, 200);
  EXPECT_EQ(stopped.body["choices"][0]["finish_reason"], "stop");
  EXPECT_EQ(stopped.body["choices"][0]["text"], text.substr(0, text.find(stop)));

  const auto models = f.get("/v1/models", f.researcher_key);
  ASSERT_EQ(models.status, 200);
  EXPECT_EQ(models.body["data"][0]["id"], "stage1");
  EXPECT_EQ(f.get("/health").body["status"], "ok");
}

TEST(ServeHttp, EchoWithLogprobsGivesThePromptsLogLikelihood) {
  // What evaluation harnesses send for a text's log-likelihood: echo, no new tokens, logprobs.
  ServeFixture f;
  f.start();
  const auto r = f.post(f.researcher_key, {{"model", "stage1"},
                                           {"prompt", "hello world, how are you"},
                                           {"max_tokens", 0},
                                           {"echo", true},
                                           {"logprobs", 1},
                                           {"temperature", 0}});
  ASSERT_EQ(r.status, 200) << r.body.dump();
  const auto& c = r.body["choices"][0];
  EXPECT_EQ(c["text"], "hello world, how are you");
  const auto& lp = c["logprobs"];
  const auto n = r.body["usage"]["prompt_tokens"].get<std::size_t>();
  ASSERT_GE(n, 3u);
  ASSERT_EQ(lp["tokens"].size(), n);
  ASSERT_EQ(lp["token_logprobs"].size(), n);
  EXPECT_TRUE(lp["token_logprobs"][0].is_null()) << "the first token has no context";
  EXPECT_TRUE(lp["top_logprobs"][0].is_null());
  std::string joined;
  for (std::size_t k = 0; k < n; ++k) {
    joined += lp["tokens"][k].get<std::string>();
    EXPECT_EQ(lp["text_offset"][k].get<std::size_t>() + lp["tokens"][k].get<std::string>().size(),
              joined.size());
    if (k == 0) continue;
    const double x = lp["token_logprobs"][k];
    EXPECT_LT(x, 0);
    ASSERT_EQ(lp["top_logprobs"][k].size(), 1u);
    EXPECT_GE(lp["top_logprobs"][k].begin().value().get<double>(), x - 1e-9);
  }
  EXPECT_EQ(joined, "hello world, how are you");
  EXPECT_EQ(r.body["usage"]["completion_tokens"], 0);
}

TEST(ServeHttp, EachErrorHasItsStatusInTheOpenAiShape) {
  ServeFixture f;
  f.start();
  auto expect = [](const Reply& r, int status, const std::string& fragment) {
    EXPECT_EQ(r.status, status) << r.body.dump();
    EXPECT_TRUE(r.body["error"]["message"].is_string()) << r.body.dump();
    EXPECT_NE(r.body.dump().find(fragment), std::string::npos) << r.body.dump();
  };
  expect(f.post("", completion()), 401, "no API key");
  expect(f.post("sg-" + std::string(48, '0'), completion()), 401, "incorrect API key");
  expect(f.post(f.revoked_key, completion()), 401, "revoked");
  expect(f.get("/v1/models"), 401, "invalid_api_key");
  expect(f.post(f.researcher_key, completion(12, {{"model", "stage9"}})), 404, "model_not_found");
  expect(f.post(f.public_key, completion()), 403, "not approved");
  expect(f.post(f.researcher_key, completion(12, {{"top_p", 2}})), 400, "top_p");
  expect(f.post(f.researcher_key, completion(12, {{"max_tokens", -1}})), 400, "max_tokens");
  expect(f.post(f.researcher_key, completion(100)), 400, "context_length_exceeded");
  expect(f.post(f.researcher_key, completion(12, {{"n", 1000}})), 400, "\"n\"");
  expect(f.post_raw(f.researcher_key, R"({"model": "stage1", "prompt": ")"
                                      "\xff"
                                      R"("})"),
         400, "UTF-8");
  expect(f.post_raw(f.researcher_key, "{\"model\": "), 400, "not a valid JSON");
  expect(f.post_raw(f.researcher_key, std::string(100 * 1024, ' ')), 413, "larger than");
  expect(f.get("/v2/nothing"), 404, "no such endpoint");
  // After all that, it still serves.
  EXPECT_EQ(f.post(f.researcher_key, completion(4)).status, 200);
}

TEST(ServeHttp, AStageIsServedOnlyAsItsDecisionSaysAndReloadAppliesANewOne) {
  ServeFixture f;
  f.g.decide("pending", "the audit has not run");
  f.start();
  EXPECT_EQ(f.post(f.public_key, completion(4)).status, 403);
  EXPECT_EQ(f.post(f.researcher_key, completion(4)).status, 200);
  EXPECT_TRUE(f.get("/v1/models", f.public_key).body["data"].empty());

  const auto approved = f.g.decide("approved", "");
  EXPECT_EQ(f.post(f.public_key, completion(4)).status, 403) << "not before a reload";
  f.server->reload();
  const auto r = f.post(f.public_key, completion(4));
  ASSERT_EQ(r.status, 200) << r.body.dump();
  EXPECT_EQ(r.body["stagegate"]["decision_id"], approved.id);
  EXPECT_EQ(f.get("/v1/models", f.public_key).body["data"][0]["id"], "stage1");

  // Revoked: no key of any audience gets it, unreleased or not.
  f.g.decide("revoked", "leaks its corpus");
  f.server->reload();
  for (const auto* key : {&f.public_key, &f.researcher_key, &f.strict_key}) {
    const auto refused = f.post(*key, completion(4));
    EXPECT_EQ(refused.status, 403) << refused.body.dump();
    EXPECT_NE(refused.body.dump().find("leaks its corpus"), std::string::npos);
  }
  EXPECT_TRUE(f.get("/health").body["stages"].empty());
}

TEST(ServeHttp, AChangedCheckpointStopsBeingServedOnReload) {
  ServeFixture f;
  f.start();
  ASSERT_EQ(f.post(f.researcher_key, completion(4)).status, 200);
  {
    std::fstream w(f.g.dir() / "stage1/model.safetensors",
                   std::ios::in | std::ios::out | std::ios::binary);
    w.seekp(-1, std::ios::end);
    w.put('\x7f');
  }
  f.server->reload();
  const auto r = f.post(f.researcher_key, completion(4));
  EXPECT_EQ(r.status, 403);
  EXPECT_NE(r.body.dump().find("hashes to"), std::string::npos) << r.body.dump();
}

TEST(ServeHttp, StreamingSendsTheSameTextThenDone) {
  ServeFixture f;
  f.start();
  const auto whole = f.post(f.researcher_key, completion(16));
  ASSERT_EQ(whole.status, 200);
  const auto events = sse_data(
      stream(f, f.researcher_key,
             completion(16, {{"stream", true}, {"stream_options", {{"include_usage", true}}}})));
  ASSERT_GE(events.size(), 4u);
  EXPECT_EQ(events.back(), "[DONE]");
  std::string text;
  std::string finish;
  for (std::size_t i = 0; i + 2 < events.size(); ++i) {
    const auto e = json::parse(events[i]);
    text += e["choices"][0]["text"].get<std::string>();
    if (!e["choices"][0]["finish_reason"].is_null()) finish = e["choices"][0]["finish_reason"];
  }
  EXPECT_EQ(text, whole.body["choices"][0]["text"]);
  EXPECT_EQ(finish, "length");
  const auto usage = json::parse(events[events.size() - 2]);
  EXPECT_TRUE(usage["choices"].empty());
  EXPECT_EQ(usage["usage"]["completion_tokens"], 16);
}

TEST(ServeHttp, ARefusedCompletionNeverReachesTheClientStreamedOrNot) {
  ServeFixture f;
  f.start();
  const auto r = f.post(f.strict_key, completion(16));
  ASSERT_EQ(r.status, 200) << r.body.dump();
  EXPECT_EQ(r.body["choices"][0]["text"], "");
  EXPECT_EQ(r.body["choices"][0]["finish_reason"], "content_filter");
  ASSERT_FALSE(r.body["stagegate"]["filter_events"].empty());
  EXPECT_EQ(r.body["stagegate"]["filters"], json::array({"refuse-all"}));

  const auto events = sse_data(stream(f, f.strict_key, completion(16, {{"stream", true}})));
  ASSERT_GE(events.size(), 2u);
  EXPECT_EQ(events.back(), "[DONE]");
  for (std::size_t i = 0; i + 1 < events.size(); ++i) {
    const auto e = json::parse(events[i]);
    EXPECT_EQ(e["choices"][0]["text"], "") << events[i];
  }
  EXPECT_EQ(json::parse(events[events.size() - 2])["choices"][0]["finish_reason"],
            "content_filter");
}

TEST(ServeHttp, AClientThatCutsItsStreamFreesItsSlotAndIsLogged) {
  ServeFixture f("", 1);  // one slot: the cut stream must free it for the next request
  f.start();
  const auto events = sse_data(stream(f, f.researcher_key, completion(48, {{"stream", true}}),
                                      [](const std::string& got) { return got.size() < 200; }));
  EXPECT_FALSE(events.empty());
  EXPECT_NE(events.back(), "[DONE]");
  // The next request gets the slot and finishes.
  const auto next = f.post(f.researcher_key, completion(8));
  EXPECT_EQ(next.status, 200) << next.body.dump();
  f.stop();
  RawDb raw(f.options.db);
  EXPECT_EQ(raw.text("SELECT status_code || ' ' || outcome || ' ' || finish_reasons_json FROM "
                     "server_requests ORDER BY id LIMIT 1"),
            "499 error [\"cancelled\"]");
}

TEST(ServeHttp, ConcurrentRequestsAreBatchedAndEachEqualsItsOwnRun) {
  ServeFixture f("", 4);
  f.start();
  std::vector<std::string> alone;
  for (int seed = 0; seed < 6; ++seed) {
    const auto r = f.post(f.researcher_key, completion(10, {{"seed", seed}}));
    ASSERT_EQ(r.status, 200);
    alone.push_back(r.body["choices"][0]["text"]);
  }
  std::vector<std::future<Reply>> running;
  for (int seed = 0; seed < 6; ++seed)
    running.push_back(std::async(std::launch::async, [&, seed] {
      httplib::Client c("127.0.0.1", f.server->port());
      c.set_read_timeout(120, 0);
      auto r = c.Post("/v1/completions", {{"Authorization", "Bearer " + f.researcher_key}},
                      completion(10, {{"seed", seed}}).dump(), "application/json");
      return r ? Reply{r->status, json::parse(r->body)} : Reply{-1, {}};
    }));
  for (int seed = 0; seed < 6; ++seed) {
    const auto r = running[static_cast<std::size_t>(seed)].get();
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.body["choices"][0]["text"], alone[static_cast<std::size_t>(seed)]) << seed;
  }
}

TEST(ServeHttp, LimitsAnswer429And503) {
  ServeFixture f("", 1, 2);  // two choices may wait
  f.g.decide("approved", "");
  f.start();
  const auto busy = f.post(f.researcher_key, completion(4, {{"n", 3}}));
  EXPECT_EQ(busy.status, 503) << busy.body.dump();
  EXPECT_EQ(busy.body["error"]["code"], "queue_full");
  int ok = 0, limited = 0;
  for (int i = 0; i < 31; ++i) {
    const auto r = f.post(f.public_key, completion(1));
    ok += r.status == 200;
    limited += r.status == 429;
  }
  EXPECT_EQ(ok, 30);
  EXPECT_EQ(limited, 1);
}

TEST(ServeHttp, ASlowBodyIsDroppedAndTheServerGoesOn) {
  ServeFixture f;
  f.start();
  const int s = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(s, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(f.server->port()));
  inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  ASSERT_EQ(connect(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  const std::string head =
      "POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{\"mo";
  ASSERT_EQ(send(s, head.data(), head.size(), 0), static_cast<ssize_t>(head.size()));
  // The rest never comes: past the read timeout (2 s) the server closes the connection.
  timeval wait{6, 0};
  setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof wait);
  char buf[512];
  const auto start = std::chrono::steady_clock::now();
  const auto n = recv(s, buf, sizeof buf, 0);
  const auto waited = std::chrono::steady_clock::now() - start;
  close(s);
  // Dropped, or refused with a 4xx; never served.
  const std::string answer(buf, static_cast<std::size_t>(std::max<ssize_t>(n, 0)));
  EXPECT_TRUE(n <= 0 || answer.rfind("HTTP/1.1 4", 0) == 0) << answer;
  EXPECT_EQ(answer.find("text_completion"), std::string::npos) << answer;
  EXPECT_LT(waited, std::chrono::seconds(5)) << "the connection was not dropped";
  EXPECT_EQ(f.post(f.researcher_key, completion(4)).status, 200);
}

TEST(ServeHttp, EveryRequestIsLoggedWithTextOnlyWhereThePolicySays) {
  ServeFixture f;
  f.g.decide("approved", "");
  f.start();
  ASSERT_EQ(f.post(f.researcher_key, completion(6)).status, 200);
  ASSERT_EQ(f.post(f.public_key, completion(6)).status, 200);
  ASSERT_EQ(f.post(f.public_key, completion(6, {{"top_p", 3}})).status, 400);
  const auto metrics = f.client->Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find("stagegate_requests_total{stage=\"stage1\",status=\"200\"} 2"),
            std::string::npos)
      << metrics->body;
  EXPECT_NE(metrics->body.find("stagegate_queue_depth{stage=\"stage1\"} 0"), std::string::npos);
  f.stop();
  RawDb raw(f.options.db);
  EXPECT_EQ(raw.integer("SELECT count(*) FROM server_requests"), 3);
  EXPECT_EQ(raw.text("SELECT client || ' ' || status_code || ' ' || outcome || ' ' || "
                     "finish_reasons_json || ' ' || (completion_text IS NOT NULL) || ' ' || "
                     "(prompt_text IS NOT NULL) || ' ' || length(completion_sha256) || ' ' || "
                     "(latency_ms > 0) FROM server_requests ORDER BY id"),
            "researchers 200 ok [\"length\"] 1 1 64 1");
  EXPECT_EQ(raw.text("SELECT group_concat(client || ' ' || status_code || ' ' || "
                     "(completion_text IS NULL) || ' ' || length(key_id), '; ') FROM "
                     "(SELECT * FROM server_requests ORDER BY id)"),
            "researchers 200 0 12; public 200 1 12; public 400 1 12");
}

}  // namespace
}  // namespace sg::testing
