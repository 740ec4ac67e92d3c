// Idempotency tokens for the AWS calls that take one (EC2 ClientToken, Secrets Manager
// ClientRequestToken). Derived from what names the request (run id, step, target), never random:
// every attempt of a call and every process that resumes its step sends the same token, so AWS
// answers a retry after a lost answer with what the first request made (or
// IdempotentParameterMismatch when the parameters differ) instead of making a second resource.
// Such calls are therefore retried like any idempotent call (CallOptions' default).
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>

namespace containctl::aws {

// EC2's ClientToken: "containctl-" and 48 hex digits of SHA-256 over the parts (59 ASCII
// characters; EC2 takes up to 64). Parts are length-prefixed, so ("a-b","c") and ("a","b-c") differ.
std::string ec2_client_token(std::initializer_list<std::string_view> parts);

// A UUID-shaped token (36 characters: RFC 9562 version 8, the variant bits set) from SHA-256 over
// the parts, for APIs that ask for a UUID-type value of 32-64 characters (Secrets Manager).
std::string uuid_token(std::initializer_list<std::string_view> parts);

}  // namespace containctl::aws
