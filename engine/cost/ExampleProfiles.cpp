// The example price profiles Lathe starts with. They are examples to edit, not quotes:
// cloud prices change monthly and differ by region, and what an owned card costs depends
// on what was paid, how long it is kept and the local electricity tariff.
//
// Sources and assumptions (prices as published in 2024, USD):
// - Throughput is NVIDIA's published dense FP16/BF16 tensor-core figure, i.e. the
//   datasheet number without the 2:4 sparsity doubling. GeForce cards run FP16 with FP32
//   accumulation (what training uses) at half their FP16-accumulate rate; their figures
//   below are the FP32-accumulate ones from the Ada Lovelace whitepaper.
// - Power is the board power limit (TDP/TGP) from the same datasheets; it is what an
//   estimate uses when nothing is measured, so estimated energy is an upper bound.
// - Rental rates include electricity (kwh_price 0): the provider pays for power.
// - Owned cards: launch MSRP; a lifetime of 8,760 hours of use (three years at eight
//   hours a day); electricity at 0.30 per kWh (roughly a European household tariff;
//   the US residential average is nearer 0.16). Edit all three to match your case.
#include "cost/PriceProfile.h"

namespace lathe::cost {

namespace {

PriceProfile rental(const char *name, double rate, double watts, double tflops, double memoryGb, const char *note)
{
    PriceProfile p;
    p.name = name;
    p.kind = ProfileKind::Rental;
    p.hourlyRate = rate;
    p.tdpWatts = watts;
    p.denseTflops = tflops;
    p.memoryGb = memoryGb;
    p.note = note;
    return p;
}

PriceProfile owned(const char *name, double price, double watts, double tflops, double memoryGb, const char *note)
{
    PriceProfile p;
    p.name = name;
    p.kind = ProfileKind::Owned;
    p.purchasePrice = price;
    p.lifetimeHours = 8760; // 3 years x 365 days x 8 h of use
    p.kwhPrice = 0.30;
    p.tdpWatts = watts;
    p.denseTflops = tflops;
    p.memoryGb = memoryGb;
    p.note = note;
    return p;
}

} // namespace

std::vector<PriceProfile> exampleProfiles()
{
    return {
        // T4 datasheet: 65 TFLOPS mixed precision (FP16/FP32), 70 W, 16 GB GDDR6.
        // Google Cloud on-demand T4 GPU, us-central1: $0.35/h (GPU only; the VM is extra).
        rental("T4 (cloud)", 0.35, 70, 65, 16, "example: GCP on-demand T4 GPU price, us-central1, 2024; VM extra"),
        // A10 datasheet: 125 TFLOPS BF16 dense (250 with sparsity), 150 W, 24 GB.
        // Lambda Cloud on-demand 1x A10 instance: $0.75/h.
        rental("A10 (cloud)", 0.75, 150, 125, 24, "example: Lambda Cloud 1x A10 on-demand, 2024"),
        // L4 datasheet: 242 TFLOPS FP16 with sparsity -> 121 dense, 72 W, 24 GB.
        // Google Cloud g2-standard-4 (1x L4, 4 vCPU, 16 GB RAM) on-demand, us-central1: ~$0.71/h.
        rental("L4 (cloud)", 0.71, 72, 121, 24, "example: GCP g2-standard-4 on-demand, us-central1, 2024"),
        // A100 SXM4 80 GB datasheet: 312 TFLOPS BF16 dense, 400 W.
        // Lambda Cloud on-demand A100 SXM 80 GB: $1.79/h per GPU (8-GPU instances).
        rental("A100 80GB (cloud)", 1.79, 400, 312, 80,
               "example: Lambda Cloud A100 SXM 80 GB on-demand per GPU, 2024"),
        // H100 SXM5 datasheet: 1,979 TFLOPS BF16 with sparsity -> 989 dense, up to 700 W, 80 GB.
        // Lambda Cloud on-demand H100 SXM: $2.99/h per GPU (8-GPU instances).
        rental("H100 80GB (cloud)", 2.99, 700, 989, 80, "example: Lambda Cloud H100 SXM on-demand per GPU, 2024"),
        // RTX 4090: launch MSRP $1,599 (Oct 2022); 450 W TGP; 24 GB. Ada whitepaper:
        // 165.2 TFLOPS FP16 tensor with FP32 accumulate (330.3 with FP16 accumulate).
        owned("RTX 4090 (owned)", 1599, 450, 165.2, 24,
              "example: MSRP $1,599, 8,760 h lifetime, $0.30/kWh"),
        // RTX 4060 Ti 16 GB: launch MSRP $499 (July 2023); 165 W TGP; 16 GB. NVIDIA
        // lists 353 "AI TOPS" (FP8 with sparsity): /2 dense, /2 FP16, /2 FP32 accumulate
        // gives ~44 TFLOPS, the same derivation that gives the 4090's whitepaper 165.
        owned("RTX 4060 Ti 16GB (owned)", 499, 165, 44.1, 16,
              "example: MSRP $499, 8,760 h lifetime, $0.30/kWh"),
    };
}

} // namespace lathe::cost
