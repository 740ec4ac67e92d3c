// The AWS SDK for JavaScript v3's signer (@smithy/signature-v4 with node's crypto) signing the
// same three requests as bench/sigv4_bench.cc, with a frozen date and requests prepared
// beforehand. Prints one JSON object: request name -> {cpu_ns (median per signature), authorization}.
//
//   NODE_PATH=DIR/node_modules node bench/peers/sign_smithy.mjs ITERATIONS REPETITIONS
//
// Installed on demand by bench/peers/install_smithy.sh (npm registry), never committed.
import { createRequire } from "node:module";

const require = createRequire(process.env.NODE_PATH ? process.env.NODE_PATH + "/" : import.meta.url);
const { SignatureV4 } = require("@smithy/signature-v4");
const { Hash } = require("@smithy/hash-node");
const { HttpRequest } = require("@smithy/protocol-http");

const credentials = { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" };
const signingDate = new Date("2015-08-30T12:36:00Z");

const REQUESTS = {
  BM_Sign_IamQueryGet: {
    service: "iam",
    make: () => new HttpRequest({
      method: "GET", protocol: "https:", hostname: "iam.amazonaws.com", path: "/",
      query: { Action: "ListUsers", Version: "2010-05-08" }, headers: { host: "iam.amazonaws.com" },
    }),
  },
  BM_Sign_Ec2FormPost: {
    service: "ec2",
    make: () => new HttpRequest({
      method: "POST", protocol: "https:", hostname: "ec2.us-east-1.amazonaws.com", path: "/",
      headers: { host: "ec2.us-east-1.amazonaws.com", "content-type": "application/x-www-form-urlencoded; charset=utf-8" },
      body: "Action=ModifyNetworkInterfaceAttribute&Version=2016-11-15&NetworkInterfaceId=eni-0123456789abcdef0" +
            "&SecurityGroupId.1=sg-0aaaaaaaaaaaaaaaa&SecurityGroupId.2=sg-0bbbbbbbbbbbbbbbb",
    }),
  },
  BM_Sign_S3Put1KiB: {
    service: "s3",
    make: () => new HttpRequest({
      method: "PUT", protocol: "https:", hostname: "evidence-bucket.s3.us-east-1.amazonaws.com",
      path: "/incident/2015-08-30/capture.json",
      headers: { host: "evidence-bucket.s3.us-east-1.amazonaws.com", "content-type": "application/json" },
      body: "x".repeat(1024),
    }),
  },
};

function signerFor(service) {
  // S3 as the SDK's S3 client configures it: no double path escaping, body hash in x-amz-content-sha256.
  return new SignatureV4({
    credentials, region: "us-east-1", service, sha256: Hash.bind(null, "sha256"),
    uriEscapePath: service !== "s3", applyChecksum: service === "s3",
  });
}

const median = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function time(spec, iterations, repetitions) {
  const signer = signerFor(spec.service);
  const first = await signer.sign(spec.make(), { signingDate });  // derives and caches the key
  const runs = [];
  for (let r = 0; r < repetitions; r++) {
    const reqs = Array.from({ length: iterations }, spec.make);
    const start = process.cpuUsage();
    for (const req of reqs) await signer.sign(req, { signingDate });
    const used = process.cpuUsage(start);
    runs.push(((used.user + used.system) * 1000) / iterations);
  }
  return { cpu_ns: median(runs), authorization: first.headers["authorization"] };
}

const iterations = Number(process.argv[2] ?? 20000);
const repetitions = Number(process.argv[3] ?? 3);
const out = { signer: `@smithy/signature-v4 ${require("@smithy/signature-v4/package.json").version} on node ${process.version}` };
for (const [name, spec] of Object.entries(REQUESTS)) out[name] = await time(spec, iterations, repetitions);
console.log(JSON.stringify(out));
