// Error shapes from real services and from moto (bodies copied from AWS documentation and from
// moto 5.2.1 answers recorded in ../shared/reference/moto-notes.md).
#include <gtest/gtest.h>

#include "aws/dynamodb.h"
#include "aws/response.h"
#include "aws/sigv4.h"

namespace containctl::aws {
namespace {

HttpResponse resp(int status, std::string body, std::vector<Header> headers = {}) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  r.headers = std::move(headers);
  return r;
}

TEST(ErrorShapes, Ec2ResponseErrors) {
  auto e = error_from_response(resp(400,
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>InvalidInstanceID.NotFound</Code>"
      "<Message>The instance ID 'i-0123456789abcdef0' does not exist</Message></Error></Errors>"
      "<RequestID>ea966190-f9aa-478e-9ede-cb5432daacc0</RequestID></Response>"));
  EXPECT_EQ(e.code, "InvalidInstanceID.NotFound");
  EXPECT_EQ(e.message, "The instance ID 'i-0123456789abcdef0' does not exist");
  EXPECT_EQ(e.http_status, 400);
  EXPECT_EQ(e.request_id, "ea966190-f9aa-478e-9ede-cb5432daacc0");
  EXPECT_EQ(e.kind, ErrorKind::kClient);
  EXPECT_FALSE(e.retryable());
}

TEST(ErrorShapes, Ec2ThrottlingAndAuth) {
  auto throttled = error_from_response(resp(503,
      "<Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>Request limit exceeded.</Message>"
      "</Error></Errors><RequestID>r-1</RequestID></Response>"));
  EXPECT_EQ(throttled.code, "RequestLimitExceeded");
  EXPECT_EQ(throttled.kind, ErrorKind::kThrottling);
  EXPECT_TRUE(throttled.retryable());

  // moto's EC2 auth failure comes as <ErrorResponse> with 401.
  auto auth = error_from_response(resp(401,
      "<ErrorResponse><Errors><Error><Code>AuthFailure</Code><Message>AWS was not able to validate the provided "
      "access credentials</Message><Type>Sender</Type></Error></Errors></ErrorResponse>"));
  EXPECT_EQ(auth.code, "AuthFailure");
  EXPECT_EQ(auth.kind, ErrorKind::kAuth);
  EXPECT_FALSE(auth.retryable());

  auto unauthorized = error_from_response(resp(403,
      "<Response><Errors><Error><Code>UnauthorizedOperation</Code><Message>You are not authorized to perform this "
      "operation.</Message></Error></Errors><RequestID>r-2</RequestID></Response>"));
  EXPECT_EQ(unauthorized.kind, ErrorKind::kAuth);
  EXPECT_EQ(unauthorized.request_id, "r-2");
}

TEST(ErrorShapes, IamStsErrorResponse) {
  auto e = error_from_response(resp(404,
      "<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">\n  <Error>\n    <Type>Sender</Type>\n"
      "    <Code>NoSuchEntity</Code>\n    <Message>The user with name alice cannot be found.</Message>\n  </Error>\n"
      "  <RequestId>4a5b7d1c-0000-4c1b-8f62-1f5f1e0f0b0a</RequestId>\n</ErrorResponse>"));
  EXPECT_EQ(e.code, "NoSuchEntity");
  EXPECT_EQ(e.message, "The user with name alice cannot be found.");
  EXPECT_EQ(e.request_id, "4a5b7d1c-0000-4c1b-8f62-1f5f1e0f0b0a");
  EXPECT_EQ(e.kind, ErrorKind::kClient);

  auto sts = error_from_response(resp(403,
      "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type>"
      "<Code>ExpiredToken</Code><Message>The security token included in the request is expired</Message></Error>"
      "<RequestId>sts-req</RequestId></ErrorResponse>"));
  EXPECT_EQ(sts.code, "ExpiredToken");
  EXPECT_EQ(sts.kind, ErrorKind::kAuth);

  auto throttled = error_from_response(resp(400,
      "<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error>"
      "<RequestId>iam-throttle</RequestId></ErrorResponse>"));
  EXPECT_EQ(throttled.kind, ErrorKind::kThrottling);
}

TEST(ErrorShapes, S3Error) {
  auto e = error_from_response(resp(403,
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>SignatureDoesNotMatch</Code><Message>The request "
      "signature we calculated does not match the signature you provided. Check your key and signing method."
      "</Message><RequestId>4442587FB7D0A2F9</RequestId><HostId>hostid==</HostId></Error>",
      {{"x-amz-id-2", "hostid=="}}));
  EXPECT_EQ(e.code, "SignatureDoesNotMatch");
  EXPECT_EQ(e.request_id, "4442587FB7D0A2F9");
  EXPECT_EQ(e.kind, ErrorKind::kAuth);

  auto slow = error_from_response(resp(503,
      "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message><RequestId>S1</RequestId>"
      "</Error>", {{"x-amz-request-id", "HDR-ID"}}));
  EXPECT_EQ(slow.code, "SlowDown");
  EXPECT_EQ(slow.kind, ErrorKind::kThrottling);
  EXPECT_EQ(slow.request_id, "HDR-ID");  // the header wins over the body

  auto missing = error_from_response(resp(404,
      "<Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message>"
      "<BucketName>nope</BucketName><RequestId>S2</RequestId></Error>"));
  EXPECT_EQ(missing.code, "NoSuchBucket");
  EXPECT_EQ(missing.kind, ErrorKind::kClient);

  auto token = error_from_response(resp(400,
      "<Error><Code>InvalidToken</Code><Message>The provided token is malformed or otherwise invalid.</Message>"
      "</Error>"));
  EXPECT_EQ(token.kind, ErrorKind::kAuth);
}

TEST(ErrorShapes, JsonTypeForms) {
  auto plain = error_from_response(resp(400, R"({"__type":"ResourceNotFoundException","message":"no such secret"})",
                                        {{"x-amzn-RequestId", "json-req-1"}}));
  EXPECT_EQ(plain.code, "ResourceNotFoundException");
  EXPECT_EQ(plain.message, "no such secret");
  EXPECT_EQ(plain.request_id, "json-req-1");
  EXPECT_EQ(plain.kind, ErrorKind::kClient);

  auto namespaced = error_from_response(resp(400,
      R"({"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException","message":"slow"})"));
  EXPECT_EQ(namespaced.code, "ProvisionedThroughputExceededException");
  EXPECT_EQ(namespaced.kind, ErrorKind::kThrottling);

  auto coral = error_from_response(resp(400,
      R"({"__type":"ValidationException:http://internal.amazon.com/coral/com.amazon.coral.validate/","Message":"bad"})"));
  EXPECT_EQ(coral.code, "ValidationException");
  EXPECT_EQ(coral.message, "bad");  // capital-M Message too

  auto coral_hash = error_from_response(resp(400,
      R"({"__type":"com.amazon.coral.service#UnrecognizedClientException:http://internal/#x","message":"m"})"));
  EXPECT_EQ(coral_hash.code, "UnrecognizedClientException");
  EXPECT_EQ(coral_hash.kind, ErrorKind::kAuth);

  auto throttled = error_from_response(resp(400, R"({"__type":"ThrottlingException","message":"Rate exceeded"})"));
  EXPECT_EQ(throttled.kind, ErrorKind::kThrottling);

  auto header_only = error_from_response(resp(400, "{}", {{"X-Amzn-ErrorType", "AccessDeniedException:http://x/"}}));
  EXPECT_EQ(header_only.code, "AccessDeniedException");
  EXPECT_EQ(header_only.kind, ErrorKind::kAuth);
}

// TransactWriteItems over capacity: DynamoDB cancels the transaction and names ThrottlingError
// (on-demand) or ProvisionedThroughputExceeded (provisioned) per item, None for the others
// (shape: botocore dynamodb 2012-08-10 TransactionCanceledException / CancellationReason docs, and
// moto 5.2.1 dynamodb/exceptions.py TransactionCanceledException). Nothing was written: the client
// retries it as throttling. A failed condition among the reasons stays a lost race for the caller.
TEST(ErrorShapes, DynamoDbTransactionCancelledForCapacityIsThrottling) {
  const std::string kThrottleMsg =
      "Throughput exceeds the current capacity of your table or index. DynamoDB is automatically scaling your "
      "table or index so please try again shortly. If exceptions persist, check if you have a hot key: "
      "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/bp-partition-key-design.html.";
  auto cancelled = [&](const std::string& reasons, const std::string& codes) {
    return error_from_response(resp(
        400,
        R"({"__type":"com.amazonaws.dynamodb.v20120810#TransactionCanceledException","CancellationReasons":)" + reasons +
            R"(,"Message":"Transaction cancelled, please refer cancellation reasons for specific reasons [)" + codes +
            R"(]"})",
        {{"x-amzn-RequestId", "ddb-req-1"}, {"Content-Type", "application/x-amz-json-1.0"}}));
  };
  auto throttled = cancelled(R"([{"Code":"None"},{"Code":"ThrottlingError","Message":")" + kThrottleMsg + R"("}])",
                             "None, ThrottlingError");
  EXPECT_EQ(throttled.code, "TransactionCanceledException");
  EXPECT_EQ(throttled.kind, ErrorKind::kThrottling);
  EXPECT_TRUE(throttled.retryable());
  EXPECT_FALSE(ddb_condition_failed(throttled));

  auto provisioned = cancelled(
      R"([{"Code":"ProvisionedThroughputExceeded","Message":"The level of configured provisioned throughput for the table was exceeded."},{"Code":"None"}])",
      "ProvisionedThroughputExceeded, None");
  EXPECT_EQ(provisioned.kind, ErrorKind::kThrottling);

  // The reasons list is optional in the model: the message names the same codes.
  auto message_only = error_from_response(resp(
      400, R"({"__type":"TransactionCanceledException","message":"Transaction cancelled, please refer cancellation reasons for specific reasons [ThrottlingError, None]"})"));
  EXPECT_EQ(message_only.kind, ErrorKind::kThrottling);

  auto condition = cancelled(R"([{"Code":"None"},{"Code":"ConditionalCheckFailed","Message":"The conditional request failed"}])",
                             "None, ConditionalCheckFailed");
  EXPECT_EQ(condition.kind, ErrorKind::kClient);
  EXPECT_TRUE(ddb_condition_failed(condition));

  auto mixed = cancelled(R"([{"Code":"ConditionalCheckFailed","Message":"The conditional request failed"},{"Code":"ThrottlingError","Message":"x"}])",
                         "ConditionalCheckFailed, ThrottlingError");
  EXPECT_EQ(mixed.kind, ErrorKind::kClient) << "a failed condition will fail again: not worth a retry";
  EXPECT_TRUE(ddb_condition_failed(mixed));

  auto conflict = cancelled(R"([{"Code":"TransactionConflict","Message":"Transaction is ongoing for the item"},{"Code":"None"}])",
                            "TransactionConflict, None");
  EXPECT_EQ(conflict.kind, ErrorKind::kClient);
  auto all_none = cancelled(R"([{"Code":"None"}])", "None");
  EXPECT_EQ(all_none.kind, ErrorKind::kClient);
}

TEST(ErrorShapes, MotoXmlForJsonService) {
  // moto answers auth failures of JSON-protocol services with IAM-style XML and HTTP 403.
  auto e = error_from_response(resp(403,
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ErrorResponse><Errors><Error><Code>SignatureDoesNotMatch</Code>"
      "<Message>The request signature we calculated does not match the signature you provided.</Message>"
      "<Type>Sender</Type></Error></Errors></ErrorResponse>"));
  EXPECT_EQ(e.code, "SignatureDoesNotMatch");
  EXPECT_EQ(e.kind, ErrorKind::kAuth);
  auto denied = error_from_response(resp(403,
      "<ErrorResponse><Errors><Error><Code>AccessDenied</Code><Message>User: arn:aws:iam::123456789012:user/limited "
      "is not authorized to perform: dynamodb:ListTables</Message><Type>Sender</Type></Error></Errors></ErrorResponse>"));
  EXPECT_EQ(denied.code, "AccessDenied");
  EXPECT_EQ(denied.kind, ErrorKind::kAuth);
}

TEST(ErrorShapes, Html500FromMoto) {
  auto e = error_from_response(resp(500,
      "<!doctype html>\n<html lang=en>\n<title>500 Internal Server Error</title>\n<h1>Internal Server Error</h1>\n"
      "<p>The server encountered an internal error and was unable to complete your request.</p>\n"));
  EXPECT_EQ(e.code, "InternalServerError");
  EXPECT_EQ(e.http_status, 500);
  EXPECT_EQ(e.kind, ErrorKind::kTransient);
  EXPECT_NE(e.message.find("HTML"), std::string::npos) << e.message;
  EXPECT_NE(e.message.find("500"), std::string::npos) << e.message;
}

TEST(ErrorShapes, EmptyAndGarbageBodies) {
  auto head404 = error_from_response(resp(404, ""));
  EXPECT_EQ(head404.code, "NotFound");
  EXPECT_EQ(head404.kind, ErrorKind::kClient);
  EXPECT_NE(head404.message.find("empty body"), std::string::npos) << head404.message;

  auto forbidden = error_from_response(resp(403, ""));
  EXPECT_EQ(forbidden.kind, ErrorKind::kAuth);

  auto teapot = error_from_response(resp(418, "I'm a teapot"));
  EXPECT_EQ(teapot.code, "HTTP418");
  EXPECT_EQ(teapot.kind, ErrorKind::kClient);

  auto bad_xml = error_from_response(resp(502, "<Error><Code>oops"));
  EXPECT_EQ(bad_xml.kind, ErrorKind::kTransient);
  EXPECT_NE(bad_xml.message.find("not valid XML"), std::string::npos);

  auto not_impl = error_from_response(resp(501, ""));
  EXPECT_EQ(not_impl.kind, ErrorKind::kClient);  // retrying an unimplemented call cannot help
  EXPECT_EQ(error_from_response(resp(429, "")).kind, ErrorKind::kThrottling);
  EXPECT_EQ(error_from_response(resp(504, "")).kind, ErrorKind::kTransient);
}

TEST(Classify, EveryBotocoreThrottlingCodeIsThrottling) {
  for (const char* code : {"Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
                           "TooManyRequestsException", "ProvisionedThroughputExceededException",
                           "TransactionInProgressException", "RequestLimitExceeded", "BandwidthLimitExceeded",
                           "LimitExceededException", "RequestThrottled", "SlowDown", "PriorRequestNotComplete",
                           "EC2ThrottledException"}) {
    EXPECT_EQ(classify(code, 400), ErrorKind::kThrottling) << code;
  }
  for (const char* code : {"RequestTimeout", "RequestTimeoutException", "InternalError", "ServiceUnavailable"}) {
    EXPECT_EQ(classify(code, 400), ErrorKind::kTransient) << code;
  }
  EXPECT_EQ(classify("InvalidParameterValue", 400), ErrorKind::kClient);
  EXPECT_EQ(classify("DependencyViolation", 400), ErrorKind::kClient);
  EXPECT_EQ(classify("SignatureDoesNotMatch", 403), ErrorKind::kAuth);
  EXPECT_EQ(classify("InvalidClientTokenId", 403), ErrorKind::kAuth);
}

TEST(ParseXml, RequestIdsAndInvalidXml) {
  auto ec2 = parse_xml(resp(200, "<DescribeInstancesResponse><requestId>ec2-ok</requestId><reservationSet/>"
                                 "</DescribeInstancesResponse>"));
  ASSERT_TRUE(ec2.ok());
  EXPECT_EQ(ec2->request_id, "ec2-ok");
  auto iam = parse_xml(resp(200, "<GetUserResponse><GetUserResult/><ResponseMetadata><RequestId>iam-ok</RequestId>"
                                 "</ResponseMetadata></GetUserResponse>"));
  ASSERT_TRUE(iam.ok());
  EXPECT_EQ(iam->request_id, "iam-ok");
  auto bad = parse_xml(resp(200, "<GetUserResponse><unclosed>"));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().kind, ErrorKind::kParse);
  EXPECT_EQ(response_request_id(resp(200, "<X><RequestId>scan</RequestId></X>")), "scan");
  EXPECT_EQ(response_request_id(resp(200, "{}", {{"x-amzn-RequestId", "hdr"}})), "hdr");
}

TEST(ErrorDescribe, NamesCodeStatusAndRequestId) {
  auto e = error_from_response(resp(404, "<ErrorResponse><Error><Code>NoSuchEntity</Code><Message>gone</Message>"
                                         "</Error><RequestId>rid</RequestId></ErrorResponse>"));
  EXPECT_EQ(e.describe(), "NoSuchEntity: gone (HTTP 404, request id rid)");
}

}  // namespace
}  // namespace containctl::aws

namespace containctl::aws {
namespace {

// What STS and IAM really answer to a request whose signature does not match: the canonical
// request (session token included) and the string to sign, in the Message.
TEST(ErrorRedaction, SignatureDoesNotMatchEchoLosesItsSecrets) {
  const std::string token = "FQoGZXIvYXdzECanaryTOKEN/with+slash==";
  const std::string sig = "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7";
  std::string message =
      "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access "
      "Key and signing method. Consult the service documentation for details. Authorization: Bearer abc.def "
      "X-Amz-Security-Token: " + token + "\n\nThe Canonical String for this request should have been\n'POST\n/\n\n"
      "content-type:application/x-www-form-urlencoded\nhost:sts.amazonaws.com\nx-amz-date:20261201T000000Z\n"
      "x-amz-security-token:" + token + "\n\ncontent-type;host;x-amz-date;x-amz-security-token\nabc'\n\n"
      "The String-to-Sign should have been\n'AWS4-HMAC-SHA256\n20261201T000000Z\n20261201/us-east-1/sts/aws4_request\n"
      "def'\n";
  std::string body = "<ErrorResponse><Error><Type>Sender</Type><Code>SignatureDoesNotMatch</Code><Message>" + message +
                     "</Message></Error><RequestId>r-1</RequestId></ErrorResponse>";
  Error e = error_from_response(resp(403, body));
  EXPECT_EQ(e.code, "SignatureDoesNotMatch");
  EXPECT_EQ(e.message.find(token), std::string::npos) << e.message;
  EXPECT_EQ(e.message.find("x-amz-date:"), std::string::npos) << e.message;
  EXPECT_EQ(e.message.find("AWS4-HMAC-SHA256\n"), std::string::npos) << e.message;
  EXPECT_EQ(e.message.find("abc.def"), std::string::npos) << e.message;
  EXPECT_NE(e.message.find("does not match the signature you provided"), std::string::npos) << e.message;
  EXPECT_NE(e.message.find("[canonical request and string-to-sign removed"), std::string::npos) << e.message;

  // JSON protocols, and the masks on their own, whatever the case.
  std::string json_body = R"({"__type":"InvalidSignatureException","message":"bad x-amz-signature=)" + sig +
                          R"( and X-AMZ-SECURITY-TOKEN=)" + token + R"( authorization: AWS abc:xyz"})";
  Error j = error_from_response(resp(400, json_body));
  EXPECT_EQ(j.message.find(sig), std::string::npos) << j.message;
  EXPECT_EQ(j.message.find(token), std::string::npos) << j.message;
  EXPECT_EQ(j.message.find("abc:xyz"), std::string::npos) << j.message;
  EXPECT_EQ(redact_service_text("STRINGTOSIGN follows: secret"), " [canonical request and string-to-sign removed by containctl]");
}

}  // namespace
}  // namespace containctl::aws
