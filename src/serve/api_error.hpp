// An HTTP API error as the OpenAI API spells it: a status and
//   {"error": {"message": "...", "type": "invalid_request_error", "param": "top_p",
//              "code": null}}
// so that clients written for that API (the `openai` packages, LangChain, lm-eval) show the
// message and act on the status as they would there.
#pragma once

#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

namespace sg::serve {

class ApiError : public std::runtime_error {
 public:
  // `param`: the request field at fault ("" when none); `code`: a machine-readable reason
  // ("" when none), e.g. "invalid_api_key", "model_not_found", "rate_limit_exceeded".
  ApiError(int status, std::string type, const std::string& message, std::string param = "",
           std::string code = "")
      : std::runtime_error(message),
        status_(status),
        type_(std::move(type)),
        param_(std::move(param)),
        code_(std::move(code)) {}

  int status() const { return status_; }
  const std::string& type() const { return type_; }
  const std::string& param() const { return param_; }
  const std::string& code() const { return code_; }

  nlohmann::json body() const;

 private:
  int status_;
  std::string type_;
  std::string param_;
  std::string code_;
};

// 400, type "invalid_request_error", naming the field.
ApiError invalid_request(const std::string& param, const std::string& message);

}  // namespace sg::serve
