// aws::parse_time: the formats AWS and credential helpers use, and the inputs fuzz_time found
// (years whose instant does not fit the 64-bit nanosecond clock overflowed; signs and spaces
// were accepted by sscanf).
#include <gtest/gtest.h>

#include "aws/clock.h"

namespace containctl::aws {
namespace {

TEST(ParseTimeTest, AcceptsAmzDateAndIso8601) {
  TimePoint a, b, c;
  ASSERT_TRUE(parse_time("20150830T123600Z", a));
  ASSERT_TRUE(parse_time("2015-08-30T12:36:00Z", b));
  ASSERT_TRUE(parse_time("2015-08-30T12:36:00.123Z", c));
  EXPECT_EQ(a, b);
  EXPECT_EQ(format_iso8601(c), "2015-08-30T12:36:00Z");
  EXPECT_TRUE(parse_time("2015-08-30T12:36:00+00:00", a));
  EXPECT_TRUE(parse_time("2261-12-31T23:59:59Z", a));
}

TEST(ParseTimeTest, RefusesYearsOutsideTheClockInsteadOfOverflowing) {
  TimePoint t;
  EXPECT_FALSE(parse_time("9999-12-31T23:59:59Z", t));
  EXPECT_FALSE(parse_time("2263-01-01T00:00:00Z", t));
  EXPECT_FALSE(parse_time("1677-01-01T00:00:00Z", t));
  EXPECT_FALSE(parse_time("00000101T000000Z", t));
}

TEST(ParseTimeTest, RefusesSignsSpacesAndImpossibleDates) {
  TimePoint t;
  EXPECT_FALSE(parse_time("2015-08-30T-1:36:00Z", t));
  EXPECT_FALSE(parse_time(" 2015-08-30T12:36:00Z", t));
  EXPECT_FALSE(parse_time("2015-8-30T12:36:00Z", t));
  EXPECT_FALSE(parse_time("+0150830T123600Z", t));
  EXPECT_FALSE(parse_time("2015-02-30T12:00:00Z", t));
  EXPECT_FALSE(parse_time("2015-02-29T12:00:00Z", t));
  EXPECT_TRUE(parse_time("2016-02-29T12:00:00Z", t));
  EXPECT_FALSE(parse_time("2015-08-30T12:36:00.Z", t));
  EXPECT_FALSE(parse_time("2015-08-30T12:36:00Zjunk", t));
}

}  // namespace
}  // namespace containctl::aws
