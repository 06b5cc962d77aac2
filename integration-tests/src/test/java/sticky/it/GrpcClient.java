package sticky.it;

import io.grpc.Attributes;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCalls;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.concurrent.TimeUnit;
import sticky.it.apps.GrpcApp;

/** One call of GrpcApp's sticky/Who on a new connection from source; returns the reply line. */
final class GrpcClient {
    private GrpcClient() {}

    static String who(InetAddress source, int port) throws java.io.IOException {
        ManagedChannel channel = NettyChannelBuilder.forAddress(new InetSocketAddress(Clients.loopbackFor(source), port)).usePlaintext()
                .localSocketPicker(new NettyChannelBuilder.LocalSocketPicker() {
                    @Override
                    public SocketAddress createSocketAddress(SocketAddress remote, Attributes attributes) {
                        return new InetSocketAddress(source, 0);
                    }
                }).build();
        try {
            return ClientCalls.blockingUnaryCall(channel.newCall(GrpcApp.WHO,
                    io.grpc.CallOptions.DEFAULT.withDeadlineAfter(20, TimeUnit.SECONDS)), "who?").trim();
        } finally {
            channel.shutdownNow();
        }
    }
}
