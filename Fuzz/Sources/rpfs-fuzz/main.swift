import CFuzzer
import FuzzTargets
import Glibc

// rpfs-fuzz TARGET [libFuzzer options] [corpus directories or input files]
// rpfs-fuzz --seeds TARGET DIR    writes the target's built-in seeds into DIR
let arguments = CommandLine.arguments
if arguments.count == 4, arguments[1] == "--seeds" {
    for (number, seed) in (FuzzTargets.builtInSeeds[arguments[2]]?() ?? []).enumerated() {
        guard let file = fopen("\(arguments[3])/\(arguments[2])-\(number)", "wb"), fwrite(seed, 1, seed.count, file) == seed.count, fclose(file) == 0 else {
            print("rpfs-fuzz: cannot write seeds to \(arguments[3])")
            exit(1)
        }
    }
    exit(0)
}
guard arguments.count >= 2, let target = FuzzTargets.all[arguments[1]] else {
    print("usage: rpfs-fuzz \(FuzzTargets.all.keys.sorted().joined(separator: "|")) [libFuzzer options] [corpus...]")
    exit(2)
}
let selected = target

// libFuzzer gets the arguments without the target name.
var argc = CommandLine.argc - 1
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv + 1
argv?[0] = CommandLine.unsafeArgv[0]
exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in
    selected(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
})
