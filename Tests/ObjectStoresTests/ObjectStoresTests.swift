import Foundation
@testable import ObjectStores
import RecoveryPoint
import Testing

@Suite struct StoreAddressTests {
    @Test func directoriesBucketsAndURLs() throws {
        #expect(try StoreAddress(parsing: "/backups/store") == .directory("/backups/store"))
        #expect(try StoreAddress(parsing: "relative/dir") == .directory("relative/dir"))
        // A colon without "//" is a file name, as before.
        #expect(try StoreAddress(parsing: "s3:store") == .directory("s3:store"))
        #expect(try StoreAddress(parsing: "s3://bucket") == .s3(bucket: "bucket", prefix: ""))
        #expect(try StoreAddress(parsing: "s3://bucket/a/b/") == .s3(bucket: "bucket", prefix: "a/b"))
        #expect(try StoreAddress(parsing: "S3://bucket//a//b") == .s3(bucket: "bucket", prefix: "a/b"))
        #expect(try StoreAddress(parsing: "https://h.example/c/store/?sv=1&sig=x") == .http(base: "https://h.example/c/store", query: "sv=1&sig=x"))
        #expect(try StoreAddress(parsing: "http://127.0.0.1:8080") == .http(base: "http://127.0.0.1:8080", query: nil))
    }

    @Test func unknownSchemesAndEmptyNamesAreRefused() {
        for text in ["ftp://host/store", "gs://bucket", "s3://", "s3:///prefix", "s3://bad bucket/x", "https://", "https:///path"] {
            #expect(throws: ObjectStoreError.self, "\(text)") { try StoreAddress(parsing: text) }
        }
        do {
            _ = try StoreAddress(parsing: "ftp://host/store?token=SECRET")
        } catch {
            #expect(error.kind == .unsupported)
            #expect(!error.description.contains("SECRET"), "\(error)")
        }
    }

    @Test func queryValuesAndPasswordsNeverShow() throws {
        let sas = try StoreAddress(parsing: "https://acct.blob.core.windows.net/c?sv=2022-11-02&ss=b&sig=abc%2Bdef%3D")
        #expect(sas.display == "https://acct.blob.core.windows.net/c?sv=…&ss=…&sig=…")
        let password = try StoreAddress(parsing: "https://user:hunter2@host/store")
        #expect(!password.display.contains("hunter2") && !password.display.contains("user"), "\(password.display)")
    }
}

@Suite struct AWSSettingsTests {
    @Test func theEnvironmentComesFirstThenTheProfileFiles() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rpfs-aws-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let credentials = directory.appendingPathComponent("credentials").path
        let config = directory.appendingPathComponent("config").path
        try """
        [default]
        aws_access_key_id = DEFAULTKEY
        aws_secret_access_key = defaultsecret
        # a comment
        [backup]
        aws_access_key_id=BACKUPKEY
        aws_secret_access_key = backup secret with spaces
        aws_session_token = tok
        """.write(toFile: credentials, atomically: true, encoding: .utf8)
        try "[profile backup]\nregion = eu-west-3\n[default]\nregion=us-west-2\n".write(toFile: config, atomically: true, encoding: .utf8)
        let files = ["AWS_SHARED_CREDENTIALS_FILE": credentials, "AWS_CONFIG_FILE": config]

        let byDefault = AWSSettings.from(environment: files)
        #expect(byDefault.credentials?.accessKey == "DEFAULTKEY" && byDefault.region == "us-west-2")
        let profile = AWSSettings.from(environment: files.merging(["AWS_PROFILE": "backup"]) { $1 })
        #expect(profile.credentials?.secretKey == "backup secret with spaces" && profile.credentials?.sessionToken == "tok")
        #expect(profile.region == "eu-west-3")
        let environment = AWSSettings.from(environment: files.merging(["AWS_ACCESS_KEY_ID": "ENVKEY", "AWS_SECRET_ACCESS_KEY": "envsecret",
                                                                        "AWS_REGION": "ap-south-1", "AWS_ENDPOINT_URL_S3": "http://s3.local",
                                                                        "AWS_ENDPOINT_URL": "http://other"]) { $1 })
        #expect(environment.credentials?.accessKey == "ENVKEY" && environment.region == "ap-south-1")
        #expect(environment.endpoint == "http://s3.local")
        let nothing = AWSSettings.from(environment: ["HOME": "/nonexistent"])
        #expect(nothing.credentials == nil && nothing.region == "us-east-1" && nothing.endpoint == nil)
    }

    @Test func s3URLsArePathStyleAtAnEndpointAndEncoded() {
        var settings = AWSSettings.from(environment: ["HOME": "/nonexistent", "AWS_REGION": "eu-central-1"])
        let aws = S3Service(bucket: "my.bucket", prefix: "vm 1", settings: settings)
        #expect(aws.url("chunks/ab/cd") == "https://my.bucket.s3.eu-central-1.amazonaws.com/vm%201/chunks/ab/cd")
        settings.endpoint = "http://127.0.0.1:9000/"
        let custom = S3Service(bucket: "b", prefix: "p/q", settings: settings)
        #expect(custom.url("points/x.point") == "http://127.0.0.1:9000/b/p/q/points/x.point")
        #expect(custom.listURL(prefix: "points/", continuation: "a/b+c=") ==
            "http://127.0.0.1:9000/b?list-type=2&prefix=p%2Fq%2Fpoints%2F&continuation-token=a%2Fb%2Bc%3D")
    }
}

@Suite struct HostileAnswersTests {
    @Test func listingsAndErrorBodiesAreReadWithoutTrust() {
        #expect(XMLText.all("Key", in: "<Key>a</Key><Key>b&amp;c</Key><Key>unclosed") == ["a", "b&c"])
        #expect(XMLText.first("Code", in: "<Code>") == nil)
        #expect(XMLText.all("Key", in: String(repeating: "<Key>", count: 10_000)).isEmpty)
        let body = Array("<Error><Code>Bad\u{1B}[31mCode</Code><Message>\(String(repeating: "x", count: 5000))</Message></Error>".utf8)
        let message = ObjectClient.serverMessage(HTTPResponse(status: 500, headers: [:], bodyBytes: 0, body: [], bodyTooLarge: false, errorBody: body))
        #expect(!message.contains("\u{1B}") && message.count < 420, "\(message.count)")
    }

    @Test func backoffIsBoundedAndJittered() {
        let policy = RetryPolicy()
        for attempt in 1 ... 40 {
            let delay = policy.delay(after: attempt)
            #expect(delay >= 0 && delay <= policy.maxDelay)
        }
        #expect(Set((0 ..< 20).map { _ in policy.delay(after: 3) }).count > 1)
        #expect(RetryPolicy.isRetryable(status: 503) && RetryPolicy.isRetryable(status: 429) && RetryPolicy.isRetryable(status: 500))
        #expect(!RetryPolicy.isRetryable(status: 403) && !RetryPolicy.isRetryable(status: 404) && !RetryPolicy.isRetryable(status: 412))
    }
}
