import XCTest
@testable import Checkpoint

final class HalfPrecisionTests: XCTestCase {
    func testKnownFloat16Values() {
        let cases: [(UInt16, Float)] = [
            (0x0000, 0), (0x3C00, 1), (0xC000, -2), (0x3555, 0.333251953125), (0x7BFF, 65504),
            (0x0001, 0x1p-24), (0x03FF, 0x1.ff8p-15), (0x0400, 0x1p-14), (0x7C00, .infinity), (0xFC00, -.infinity),
        ]
        for (bits, value) in cases {
            XCTAssertEqual(HalfPrecision.float(fromFloat16Bits: bits), value, "bits 0x\(String(bits, radix: 16))")
            XCTAssertEqual(HalfPrecision.float16Bits(from: value), bits, "value \(value)")
        }
        XCTAssertTrue(HalfPrecision.float(fromFloat16Bits: 0x7E00).isNaN)
        XCTAssertEqual(HalfPrecision.float16Bits(from: .nan) & 0x7E00, 0x7E00, "NaN must stay a quiet NaN")
        XCTAssertEqual(HalfPrecision.float16Bits(from: -0.0), 0x8000)
    }

    func testFloat16RoundsToNearestEven() {
        // 1 + 2^-11 is halfway between 1 and 1 + 2^-10: ties go to the even mantissa (1).
        XCTAssertEqual(HalfPrecision.float16Bits(from: 1 + 0x1p-11), 0x3C00)
        // 1 + 3 * 2^-11 is halfway between 0x3C01 and 0x3C02: even is 0x3C02.
        XCTAssertEqual(HalfPrecision.float16Bits(from: 1 + 3 * 0x1p-11), 0x3C02)
        XCTAssertEqual(HalfPrecision.float16Bits(from: 1 + 0x1p-11 + 0x1p-20), 0x3C01, "above halfway rounds up")
        XCTAssertEqual(HalfPrecision.float16Bits(from: 65520), 0x7C00, "halfway past the largest half overflows")
        XCTAssertEqual(HalfPrecision.float16Bits(from: 65519), 0x7BFF)
        XCTAssertEqual(HalfPrecision.float16Bits(from: 0x1p-25), 0x0000, "half the smallest subnormal ties to zero")
        XCTAssertEqual(HalfPrecision.float16Bits(from: 0x1.8p-25), 0x0001)
        XCTAssertEqual(HalfPrecision.float16Bits(from: 3 * 0x1p-25), 0x0002, "1.5 subnormal units tie to even 2")
        XCTAssertEqual(HalfPrecision.float16Bits(from: 0x1p-26), 0x0000)
    }

    func testEveryFloat16RoundTrips() {
        for bits in 0...UInt16.max {
            let value = HalfPrecision.float(fromFloat16Bits: bits)
            if value.isNaN { continue }
            XCTAssertEqual(HalfPrecision.float16Bits(from: value), bits)
        }
    }

    #if !(os(macOS) && arch(x86_64))
    /// Swift's own Float16 (hardware or compiler-rt conversions) as an independent oracle.
    func testMatchesSwiftFloat16() {
        for bits in 0...UInt16.max {
            let expected = Float(Float16(bitPattern: bits))
            let actual = HalfPrecision.float(fromFloat16Bits: bits)
            if expected.isNaN { XCTAssertTrue(actual.isNaN); continue }
            XCTAssertEqual(actual.bitPattern, expected.bitPattern, "half 0x\(String(bits, radix: 16))")
        }
        var generator = SeededGenerator(seed: 7)
        var mismatches = 0
        for index in 0..<300_000 {
            // Random bit patterns cover everything; scaled normals concentrate on the half range.
            let value = index % 2 == 0
                ? Float(bitPattern: UInt32(truncatingIfNeeded: generator.next()))
                : Float.random(in: -70000...70000, using: &generator) * (index % 3 == 0 ? 0x1p-20 : 1)
            if value.isNaN { continue }
            if HalfPrecision.float16Bits(from: value) != Float16(value).bitPattern { mismatches += 1 }
        }
        XCTAssertEqual(mismatches, 0)
    }
    #endif

    func testBFloat16KnownValues() {
        XCTAssertEqual(HalfPrecision.bfloat16Bits(from: 1), 0x3F80)
        XCTAssertEqual(HalfPrecision.bfloat16Bits(from: Float(bitPattern: 0x3F80_8000)), 0x3F80, "tie to even")
        XCTAssertEqual(HalfPrecision.bfloat16Bits(from: Float(bitPattern: 0x3F81_8000)), 0x3F82, "tie to even")
        XCTAssertEqual(HalfPrecision.bfloat16Bits(from: Float(bitPattern: 0x3F80_8001)), 0x3F81)
        XCTAssertEqual(HalfPrecision.bfloat16Bits(from: .greatestFiniteMagnitude), 0x7F80, "rounds to infinity")
        XCTAssertEqual(HalfPrecision.bfloat16Bits(from: -.infinity), 0xFF80)
        XCTAssertTrue(HalfPrecision.float(fromBFloat16Bits: HalfPrecision.bfloat16Bits(from: .nan)).isNaN)
        XCTAssertTrue(HalfPrecision.float(fromBFloat16Bits: HalfPrecision.bfloat16Bits(
            from: Float(bitPattern: 0x7F80_0001))).isNaN, "a NaN with only low payload bits must not become infinity")
        XCTAssertEqual(HalfPrecision.float(fromBFloat16Bits: 0xC040), -3)
    }

    /// bfloat16 rounding checked against the definition: the nearer of the two neighbours,
    /// the even one on ties, computed in Double.
    func testBFloat16IsNearestEven() {
        var generator = SeededGenerator(seed: 11)
        for _ in 0..<200_000 {
            let value = Float(bitPattern: UInt32(truncatingIfNeeded: generator.next()))
            guard value.isFinite else { continue }
            let lower = UInt16(value.bitPattern >> 16)  // truncation, toward zero
            let upper = lower &+ 1                    // next magnitude away from zero
            let lowerValue = Double(HalfPrecision.float(fromBFloat16Bits: lower))
            // Past the largest finite value the next step is 2^128, which IEEE rounding treats as overflow.
            let upperValue = upper & 0x7FFF == 0x7F80
                ? (value < 0 ? -0x1p128 : 0x1p128) : Double(HalfPrecision.float(fromBFloat16Bits: upper))
            let distanceLower = abs(Double(value) - lowerValue)
            let distanceUpper = abs(Double(value) - upperValue)
            let expected: UInt16
            if distanceLower < distanceUpper { expected = lower }
            else if distanceUpper < distanceLower { expected = upper }
            else { expected = lower & 1 == 0 ? lower : upper }
            if HalfPrecision.bfloat16Bits(from: value) != expected {
                XCTFail("bfloat16 of bits 0x\(String(value.bitPattern, radix: 16)) should be 0x\(String(expected, radix: 16))")
                return
            }
        }
    }
}
