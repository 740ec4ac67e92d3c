// The AWS SDK for Go v2's signer (aws/signer/v4, from Debian's golang-github-aws-aws-sdk-go-v2-dev)
// signing the same three requests as bench/sigv4_bench.cc, with a frozen time and requests prepared
// beforehand. Each signature also hashes the body, as the SDK's payload-hash middleware does before
// signing (containctl's figure includes the same hash). Prints one JSON object: request name ->
// {cpu_ns (median per signature), authorization}.
//
//	bench/peers/build_sign_go.sh OUT && OUT ITERATIONS REPETITIONS
package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

type spec struct {
	service, method, url string
	headers              [][2]string
	body                 string
}

var requests = map[string]spec{
	"BM_Sign_IamQueryGet": {"iam", "GET", "https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08", nil, ""},
	"BM_Sign_Ec2FormPost": {"ec2", "POST", "https://ec2.us-east-1.amazonaws.com/",
		[][2]string{{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}},
		"Action=ModifyNetworkInterfaceAttribute&Version=2016-11-15&NetworkInterfaceId=eni-0123456789abcdef0" +
			"&SecurityGroupId.1=sg-0aaaaaaaaaaaaaaaa&SecurityGroupId.2=sg-0bbbbbbbbbbbbbbbb"},
	"BM_Sign_S3Put1KiB": {"s3", "PUT", "https://evidence-bucket.s3.us-east-1.amazonaws.com/incident/2015-08-30/capture.json",
		[][2]string{{"Content-Type", "application/json"}}, strings.Repeat("x", 1024)},
}

var (
	creds   = aws.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"}
	frozen  = time.Date(2015, 8, 30, 12, 36, 0, 0, time.UTC)
	signers = map[bool]*v4.Signer{
		false: v4.NewSigner(),
		true:  v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true }), // as the S3 client
	}
)

func build(s spec) *http.Request {
	r, err := http.NewRequest(s.method, s.url, strings.NewReader(s.body))
	if err != nil {
		panic(err)
	}
	for _, h := range s.headers {
		r.Header.Set(h[0], h[1])
	}
	return r
}

func sign(s spec, r *http.Request) {
	sum := sha256.Sum256([]byte(s.body))
	hash := hex.EncodeToString(sum[:])
	if s.service == "s3" {
		r.Header.Set("X-Amz-Content-Sha256", hash)
	}
	if err := signers[s.service == "s3"].SignHTTP(context.Background(), creds, r, hash, s.service, "us-east-1", frozen); err != nil {
		panic(err)
	}
}

func cpuNs() int64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Utime.Nano() + ru.Stime.Nano()
}

func main() {
	iterations, repetitions := 20000, 3
	if len(os.Args) > 2 {
		iterations, _ = strconv.Atoi(os.Args[1])
		repetitions, _ = strconv.Atoi(os.Args[2])
	}
	out := map[string]any{"signer": "aws-sdk-go-v2 signer/v4 (Debian 1.17.1) on " + runtime.Version()}
	for name, s := range requests {
		first := build(s)
		sign(s, first) // derives and caches the key
		var runs []float64
		for rep := 0; rep < repetitions; rep++ {
			reqs := make([]*http.Request, iterations)
			for i := range reqs {
				reqs[i] = build(s)
			}
			start := cpuNs()
			for _, r := range reqs {
				sign(s, r)
			}
			runs = append(runs, float64(cpuNs()-start)/float64(iterations))
		}
		sort.Float64s(runs)
		out[name] = map[string]any{"cpu_ns": runs[len(runs)/2], "authorization": first.Header.Get("Authorization")}
	}
	enc, _ := json.Marshal(out)
	fmt.Println(string(enc))
}
